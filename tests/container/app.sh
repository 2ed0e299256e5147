# The test app, run by busybox sh as the container's command under
# dhi-bootstrap. It reports its own view of itself (pid, ids, capabilities,
# routes), then waits; SIGTERM makes it exit 42, a status only the app itself
# gives, so a test can tell its exit from a kill or from hardbox's own.
echo "app: pid $$"
echo "app: pid1 $(tr '\0' ' ' </proc/1/cmdline)"
echo "app: id $(id -u):$(id -g) groups $(id -G)"
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "/proc/$$/status" | sed 's/^/app: /'
ip route | sed 's/^/app: route /'
trap 'echo "app: got SIGTERM"; exit 42' TERM
echo "app: ready"
while :; do
  sleep 1 &
  wait $!
done
