#!/usr/bin/env bash
# Two release relays side by side: BEFORE and AFTER (paths to binaries) in
# front of one nginx serving the seed profile, alternating `wrk -t2 -c64
# -d8s` PAIRS times; prints each pair and the median AFTER/BEFORE ratio.
# Needs Debian's nginx and wrk (`cargo xtask bench` installs them).
# Usage: xtask/relay-ab.sh BEFORE AFTER [PAIRS]
set -euo pipefail
before=$1 after=$2 pairs=${3:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/nginx" "$dir/dist"
cp "$root/fixtures/seed.json" "$dir/seed.json"
echo '<html></html>' > "$dir/dist/index.html"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(free_port)
cat > "$dir/upstream.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx/up.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    server {
        listen 127.0.0.1:$up;
        location = /api/v2/server-side-api/profile/ {
            default_type application/json;
            root $dir;
            rewrite ^ /seed.json break;
        }
    }
}
CONF
nginx -c "$dir/upstream.conf" -p "$dir/nginx" >/dev/null 2>&1 &
start() { # binary port
  ADAPTY_API_KEY=secret_bench_0123 RUST_LOG=warn "$1" --api-base "http://127.0.0.1:$up" \
    --listen "127.0.0.1:$2" --rate-limit-per-minute 1000000000 \
    --global-rate-limit-per-minute 1000000000 --audit-log "$dir/audit-$2.jsonl" \
    --static-dir "$dir/dist" >/dev/null 2>&1 &
}
port_before=$(free_port); start "$before" "$port_before"
port_after=$(free_port); start "$after" "$port_after"
sleep 1
path='/api/profile?customer_user_id=77B14FB4-FD2A-4D38-AA3A-4C433F79863C'
rps() { wrk -t2 -c64 -d8s -H 'X-CSRF: 1' "http://127.0.0.1:$1$path" | awk '/Requests\/sec/ {print $2}'; }
ratios=()
for i in $(seq "$pairs"); do
  b=$(rps "$port_before"); a=$(rps "$port_after")
  echo "pair $i: before $b req/s, after $a req/s"
  ratios+=("$(python3 -c "print($a/$b)")")
done
python3 -c "import statistics,sys; print('median after/before:', round(statistics.median(map(float, sys.argv[1:])), 3))" "${ratios[@]}"
