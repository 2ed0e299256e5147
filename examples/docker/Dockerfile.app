# A static app (Go, Rust, C with musl) on top of the hardbox image:
# dhi-bootstrap sets the route, steps down to nonroot for good and is PID 1.
#   docker build -f Dockerfile.static -t hardbox .          (in the hardbox checkout)
#   docker build -f Dockerfile.app -t my-app .             (next to ./my-app)
#   docker run --read-only --cap-drop ALL \
#     --cap-add NET_ADMIN --cap-add SETUID --cap-add SETGID --cap-add SETPCAP \
#     -e ROUTE_DESTINATION=10.20.0.0/16 -e ROUTE_GATEWAY=172.17.0.254 \
#     -e DROP_TO_USER=nonroot my-app
ARG HARDBOX_IMAGE=hardbox
FROM ${HARDBOX_IMAGE}
COPY my-app /app/my-app
ENTRYPOINT ["/bin/dhi-bootstrap"]
CMD ["/app/my-app"]
