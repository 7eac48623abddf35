#!/bin/sh
# docker-compose.yml: waits until the demo mesh is ready, copies the kubeconfig it wrote in the
# shared volume to $KUBECONFIG with the server pointed at the demo-mesh service (the mesh writes
# the address it listens on, 0.0.0.0), then runs the given command.
set -eu
demo_dir=${MESHDASH_COMPOSE_DEMO_DIR:-/app/var/demo}
until [ -f "$demo_dir/ready" ]; do
    sleep 1
done
sed 's#server: http://[^:/]*:#server: http://demo-mesh:#' "$demo_dir/kubeconfig" >"$KUBECONFIG"
exec "$@"
