"""What is wrong with a pod, in the terms the pods list filters by: one rule per problem,
decided at collection from the pod's status (``kubectl get pods`` STATUS and its containers).
"""

from meshdash.mesh.model import Pod

CRASHLOOP = "crashloop"
INIT = "init"  # init containers not done: Init:0/1, Init:Error, Init:CrashLoopBackOff...
NOT_READY = "not-ready"
OOMKILLED = "oomkilled"

# Problem -> what the filter is called on the page.
POD_PROBLEMS: dict[str, str] = {
    CRASHLOOP: "CrashLoopBackOff",
    INIT: "Stuck in init",
    NOT_READY: "Not ready",
    OOMKILLED: "OOMKilled",
}

_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def pod_problems(pod: Pod) -> list[str]:
    """The POD_PROBLEMS ``pod`` has, in POD_PROBLEMS order."""
    found = set()
    if pod.waiting_reason == "CrashLoopBackOff" or pod.status.endswith("CrashLoopBackOff"):
        found.add(CRASHLOOP)
    if pod.status.startswith("Init:") or pod.init_waiting:
        found.add(INIT)
    if not pod.ready and pod.phase not in _FINISHED_PHASES:
        found.add(NOT_READY)
    if "OOMKilled" in (pod.proxy_last_termination, pod.app_last_termination) or (
        pod.status == "OOMKilled"
    ):
        found.add(OOMKILLED)
    return [problem for problem in POD_PROBLEMS if problem in found]
