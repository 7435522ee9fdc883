#!/usr/bin/env bash
# Resume of the device-side bundle pipeline (client/install.c, issue 6): "kill -9 the
# installer at 20 random points of a 64 MiB download and restart each time: the final slot
# equals the image, and the server's access log shows total bytes served <= bundle size +
# one chunk per interruption". Driven through tests/tools/upk_install_tool against
# `upkeep-server serve` on loopback, twice: one chunk per Range request (--max-run 1, the
# issue's bound) and runs of 4 neighbouring chunks (the bytes in flight are one run).
#
# The kill points are random but reproducible: UPKEEP_RESUME_SEED chooses them (a fresh
# seed otherwise; printed first). Each kill lands mid-download: once the installer's
# journal (its --json-progress line after each journal write) has passed a random byte of
# the bundle and this run has itself fetched chunks. Kept apart from test_install.sh so
# ctest runs it in parallel with the rest.
. "$(dirname "$0")/test_repo_lib.bash"

T="$UPKEEP_BUILD_DIR/tests/upk_install_tool"
[ -x "$T" ] || fail "no $T"
KILLS=20
if [ -n "${UPKEEP_RESUME_SEED:-}" ]; then
	[[ $UPKEEP_RESUME_SEED =~ ^[0-9]{1,18}$ ]] || fail "UPKEEP_RESUME_SEED is not a number"
	seed=$UPKEEP_RESUME_SEED
else
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
echo "resume: seed $seed (UPKEEP_RESUME_SEED=$seed repeats these kill points)"

# 64 MiB of random regions (compressed firmware: stored raw) and text regions (logs and
# configuration: compressed), of random lengths; the same image every time.
mkdir in
"$PY" - <<'EOF'
import random
r = random.Random(64)
size = 64 << 20
parts, n = [], 0
while n < size:
    if r.random() < 0.3:
        k = r.randrange(1000000)
        lines = [b"%08d sensor %d: %s ok\n" % (k + i, (k + i) % 97, b"temp=%d" % ((k * i) % 90))
                 for i in range(r.randrange(5000, 40000))]
        part = b"".join(lines)
    else:
        part = r.randbytes(r.randrange(200000, 2000000))
    parts.append(part)
    n += len(part)
open("in/big.img", "wb").write(b"".join(parts)[:size])
EOF
repo="$work/repo"
mkdir -p "$repo/metadata" "$repo/targets"
expect 0 "$S" bundle create --out "$repo/targets/big.upk" --product cam --hardware rev-a \
	--security-version 1 --kind feature --build-time 2026-01-01T00:00:00Z --version 1.0.0 \
	--firmware in/big.img
expect 0 "$S" bundle info "$repo/targets/big.upk" --json --chunks
cp "$OUT" io/info.json
blen=$(stat -c %s "$repo/targets/big.upk")
hlen=$(json io/info.json "d['header']['length']")
hsha=$(json io/info.json "d['header']['sha256']")
stored=$(json io/info.json "d['components'][0]['stored_bytes']")
max_chunk=$(json io/info.json "max(c['stored_size'] for c in d['components'][0]['chunk_list'])")
read -r n_raw n_comp < <(json io/info.json "' '.join(str(sum(1 for c in d['components'][0]['chunk_list'] if c['raw'] == w)) for w in (True, False))")
[ "$(stat -c %s in/big.img)" = $((64 << 20)) ] || fail "test data: the image is not 64 MiB"
if [ "$n_raw" -lt 100 ] || [ "$n_comp" -lt 100 ]; then
	fail "test data: $n_raw raw and $n_comp compressed chunks, want both kinds"
fi

# The driver: starts the tool KILLS times and kills it with SIGKILL mid-download, then runs
# it to completion. Its stdout is a pipe cut to one page, so the tool, which writes one
# progress line per journal point, cannot run more than a page of lines (a few dozen
# journal points) past the line at which the kill was decided: however late the driver is
# scheduled, the kill lands before the end. Checks that each run was still running when
# killed (exit by SIGKILL) and that each restart resumed: its journal covers at least the
# chunks the killed run had reported journaled.
cat >io/resume.py <<'EOF'
import fcntl, json, os, random, select, signal, subprocess, sys, time

tool, info_file, seed, kills, every, tag = sys.argv[1:7]
args = sys.argv[7:]
kills, every = int(kills), int(every)
info = json.load(open(info_file))
chunks = info["components"][0]["chunk_list"]
n = len(chunks)
LINE_MIN = 150  # bytes in the shortest progress line
PAGE = 4096
READ = 512
# Journal points the tool can be past the deciding line: a page of lines in the pipe, one
# read of ours not yet parsed, one being written.
ahead = PAGE // LINE_MIN + READ // LINE_MIN + 2
last_ok = n - (ahead + 2) * every  # the latest deciding point that still ends mid-download
if last_ok < 4 * kills * every:
    sys.exit("FAIL: %d chunks are too few for %d kills" % (n, kills))
rng = random.Random("%s/%s" % (seed, tag))
# Random bytes of the chunk area; a kill comes once the journal has passed its point
# (`done` counts chunks in place from the start, so done >= k means byte pos is written).
lo, hi = chunks[every]["file_offset"], chunks[last_ok - 1]["file_offset"]
points = sorted(rng.randrange(lo, hi) for _ in range(kills))
ends = [c["file_offset"] + c["stored_size"] for c in chunks]


def chunks_before(pos):
    k = 0
    while ends[k] <= pos:
        k += 1
    return k


def run(kill_at):
    """One start; kill_at None: to completion. Returns (rc, progress lines)."""
    p = subprocess.Popen([tool] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=open("io/resume.err", "w"))
    fd = p.stdout.fileno()
    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PAGE)
    buf, lines, killed = b"", [], False
    deadline = time.monotonic() + 120
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            p.kill()
            p.wait()
            sys.exit("FAIL: run %s: no end after 120 s" % tag)
        if not select.select([fd], [], [], left)[0]:
            continue
        data = os.read(fd, READ)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(json.loads(line))
            s = lines[-1]
            if (kill_at is not None and s["event"] == "progress" and s["done"] >= kill_at
                    and s["from_net"] > 0):
                if s["done"] > last_ok:
                    p.kill()
                    p.wait()
                    sys.exit("FAIL: run %s: the journal passed chunk %d of %d before the "
                             "kill could be placed" % (tag, s["done"], n))
                time.sleep(rng.uniform(0, 0.003))  # a random point between journal points
                p.send_signal(signal.SIGKILL)
                killed = True
                break
        if killed:
            break
    p.stdout.close()
    rc = p.wait()
    return rc, lines


stats = []
prev_done = 0
for i, pos in enumerate(points):
    k = chunks_before(pos)
    rc, lines = run(k)
    if rc != -signal.SIGKILL:
        sys.exit("FAIL: kill %d: the tool exited %s before the kill: %s"
                 % (i + 1, rc, open("io/resume.err").read()))
    last = lines[-1]
    if last["done"] >= n:
        sys.exit("FAIL: kill %d: the download had ended" % (i + 1))
    if i and last["from_journal"] < prev_done:
        sys.exit("FAIL: restart %d resumed from chunk %d, the killed run had journaled %d"
                 % (i, last["from_journal"], prev_done))
    if i and last["from_journal"] + last["from_target"] == 0:
        sys.exit("FAIL: restart %d did not resume" % i)
    stats.append(last)
    print("kill %2d at byte %9d (chunk %4d): %4d chunks in place, %4d journaled, %3d in place,"
          " %4d fetched" % (i + 1, pos, k, last["done"], last["from_journal"],
                            last["from_target"], last["from_net"]))
    prev_done = last["journaled"]
rc, lines = run(None)
if rc != 0:
    sys.exit("FAIL: the final run exited %d: %s" % (rc, open("io/resume.err").read()))
last = lines[-1]
if last["event"] != "done" or last["done"] != n or last["from_journal"] < prev_done:
    sys.exit("FAIL: the final run did not resume and finish: %s" % last)
print("final run: %d journaled, %d in place, %d fetched"
      % (last["from_journal"], last["from_target"], last["from_net"]))
EOF

# Bytes served and header requests for the bundle in the access log of one pass. An
# aborted request is logged with the whole range it was answered with, not what got
# through before the kill: the sum over-counts, never under-counts.
served_bytes() {
	awk '$2 == "/targets/big.upk" && $5 ~ /^[0-9]+$/ { s += $5 } END { print s + 0 }' "$1"
}
header_reads() {
	grep -c "^GET /targets/big.upk bytes=0-$((hlen - 1)) " "$1" || true
}

for run in 1 4; do
	log="$work/io/access-$run.log"
	serve_start --access-log "$log"
	rm -f slot state
	expect 0 "$PY" io/resume.py "$T" io/info.json "$seed" "$KILLS" 4 "run$run" \
		--bundle-url "$BASE/targets/big.upk" --bundle-length "$blen" --header-len "$hlen" \
		--header-sha256 "$hsha" --component firmware --out slot --state state \
		--journal-every 4 --max-run "$run" --json-progress
	cat "$OUT"
	# Stopped before the log is read: the lines of aborted requests are complete.
	serve_stop
	cmp -s slot in/big.img || fail "runs of $run: the resumed slot differs from the image"
	grep -q '^done [0-9]*$' state || fail "runs of $run: the journal is not complete"
	# The header is read once per start: once for the bundle, once more per restart, and
	# never again within a start.
	starts=$((KILLS + 1))
	[ "$(header_reads "$log")" = "$starts" ] ||
		fail "runs of $run: $(header_reads "$log") header reads for $starts starts"
	got=$(served_bytes "$log")
	# Each interruption costs at most the request in flight: one run of chunks (one chunk
	# with --max-run 1); what was written before it is found in the journal or the slot.
	lost=$((KILLS * run * max_chunk))
	# The issue's bound, plus the header read again by each of the KILLS restarts.
	bound=$((blen + lost + KILLS * hlen))
	[ "$got" -le "$bound" ] || fail "runs of $run: served $got bytes, bound $bound"
	# Tighter: the bundle's stored bytes (no tar padding, never asked for), the header per
	# start and the loss; and every chunk came from the server at least once.
	least=$((starts * hlen + stored))
	[ "$got" -le $((least + lost)) ] ||
		fail "runs of $run: served $got bytes, more than $least + $lost lost in flight"
	[ "$got" -ge "$least" ] || fail "runs of $run: served $got bytes, fewer than the $least needed"
	checks=$((checks + 5))
	echo "resume (runs of $run): $KILLS interruptions, $got bytes served of a $blen-byte bundle" \
		"(bound $bound = bundle + $KILLS x ($run x $max_chunk-byte chunk + $hlen-byte header)," \
		"$((got - least)) bytes beyond the minimum $least)"
done
done_ok
