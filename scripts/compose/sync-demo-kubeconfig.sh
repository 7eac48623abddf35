#!/bin/sh
# docker-compose.yml, profile demo: keeps $KUBECONFIG (in the volume the worker reads it from) a
# copy of the kubeconfig the demo mesh writes, with the server pointed at the demo-mesh service
# (the mesh writes the address it listens on, 0.0.0.0). The mesh makes a new token at each
# start and then writes `ready`: whenever `ready` is newer than the copy, it is copied again.
set -eu
demo_dir=${MESHDASH_COMPOSE_DEMO_DIR:-/app/var/demo}
while :; do
    if [ -f "$demo_dir/ready" ] && { [ ! -f "$KUBECONFIG" ] || [ "$demo_dir/ready" -nt "$KUBECONFIG" ]; }; then
        sed 's#server: http://[^:/]*:#server: http://demo-mesh:#' "$demo_dir/kubeconfig" >"$KUBECONFIG.new"
        mv "$KUBECONFIG.new" "$KUBECONFIG"
        echo "kubeconfig for the demo mesh written to $KUBECONFIG"
    fi
    sleep 2
done
