# The ext4 image pair of the bundle benchmarks (issue 6), shared by scripts/bench-bundle
# and scripts/bench-install, which source this file. Not a script of its own.
#
# bench_image_pair MIB: in the current directory, write v1.ext4 and v2.ext4, each MIB
# MiB (mkfs.ext4 -b 4096 -d, fixed UUID, hash seed and times, so that the same packages
# give the same bytes), of unpacked Debian packages from /var/cache/apt/archives (files from
# /usr/lib if the cache has too few), about 70 % full. v2 = v1 with an upgrade: nginx
# to its newer cached build if present, every 20th package's largest file rebuilt
# (2 KiB inserted at a third, 64 bytes changed near the start) and two packages added.
# Files move, as a real rebuild moves them. Also writes inplace.txt: 16 spread-out
# files of v1 of 100 KiB or more (paths inside the image, one a line), for a caller
# that patches them in place. Sets bench_image_source to a description of the files.
# Needs e2fsprogs (mkfs.ext4), dpkg-deb and /usr/bin/python3.
bench_image_pair() {
	local mib=$1 py=/usr/bin/python3 arch=/var/cache/apt/archives
	local target_kb=$((mib * 1024 * 70 / 100)) sum=0 n d s f v old new i
	local -a debs sel=() nginx
	mkdir v1 v2
	mapfile -t debs < <(find "$arch" -maxdepth 1 -name '*.deb' -size -1500000c -printf '%f\n' \
		2>/dev/null | { grep -v '^nginx' || true; } | LC_ALL=C sort)
	for d in "${debs[@]}"; do
		s=$(dpkg-deb -f "$arch/$d" Installed-Size 2>/dev/null || echo 0)
		sel+=("$d")
		sum=$((sum + s))
		[ "$sum" -ge "$target_kb" ] && break
	done
	n=${#sel[@]}
	if [ "$sum" -ge "$target_kb" ] && [ "${#debs[@]}" -ge $((n + 2)) ]; then
		bench_image_source="$n Debian packages from $arch"
		for d in "${sel[@]}"; do
			dpkg-deb -x "$arch/$d" v1
			dpkg-deb -x "$arch/$d" v2
		done
		mapfile -t nginx < <(printf '%s\n' "$arch"/nginx_*_amd64.deb | LC_ALL=C sort -V)
		old=${nginx[0]} new=${nginx[-1]}
		if [ -f "$old" ] && [ "$old" != "$new" ]; then
			dpkg-deb -x "$old" v1
			dpkg-deb -x "$new" v2
			bench_image_source="$bench_image_source, nginx $(basename "$old" | cut -d_ -f2) -> $(basename "$new" | cut -d_ -f2)"
		fi
		i=0
		for d in "${sel[@]}"; do
			i=$((i + 1))
			[ $((i % 20)) -eq 0 ] || continue
			f=$(dpkg-deb -c "$arch/$d" | awk '$1 ~ /^-/ {print $3, $6}' | sort -n |
				tail -n 1 | cut -d' ' -f2-)
			echo "${f#./}"
		done >rebuilt.txt
		for d in "${debs[@]:$n:2}"; do dpkg-deb -x "$arch/$d" v2; done
	else
		bench_image_source="files of /usr/lib/x86_64-linux-gnu (too few cached .deb files)"
		find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -size -16M | LC_ALL=C sort |
			while read -r f; do
				s=$(stat -c %s "$f")
				sum=$(($(cat tot 2>/dev/null || echo 0) + s / 1024))
				echo "$sum" >tot
				[ "$sum" -le "$target_kb" ] || break
				cp "$f" v1/
				cp "$f" v2/
			done
		(cd v1 && printf '%s\n' * | LC_ALL=C sort | awk 'NR % 20 == 0') >rebuilt.txt
		find /usr/bin -maxdepth 1 -type f -size -2M | LC_ALL=C sort | head -n 2 |
			xargs -r cp -t v2/
	fi
	"$py" - rebuilt.txt <<'EOF'
import hashlib, os, sys
for rel in open(sys.argv[1]).read().split("\n"):
    p = os.path.join("v2", rel)
    if not rel or not os.path.isfile(p) or os.path.islink(p):
        continue
    b = bytearray(open(p, "rb").read())
    n = len(b)
    b[n // 3:n // 3] = hashlib.sha256(b).digest() * 64
    for j in range(min(64, n)):
        b[(256 if n > 320 else 0) + j - (64 if n > 320 else 0)] ^= 0x5A
    open(p, "wb").write(b)
EOF
	(cd v1 && find . -type f -size +100k | LC_ALL=C sort | awk 'NR % 7 == 0' | head -n 16 |
		cut -c2-) >inplace.txt
	find v1 v2 -exec touch -h -d @1700000000 {} +
	for v in v1 v2; do
		E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b 4096 \
			-U 0b9c5d2e-3f41-4a8b-9c6d-7e8f9a0b1c2d \
			-E hash_seed=5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b,root_owner=0:0 \
			-d "$v" "$v.ext4" "${mib}M" >/dev/null
		# mkfs.ext4 -d copies each file's ctime, the moment it was unpacked, which no
		# option sets: set them all to the fixed time, so that the same packages give
		# the same bytes.
		(cd "$v" && find . -mindepth 1 | cut -c2- | grep -v '"' | awk '{
			printf "sif \"%s\" ctime @1700000000\nsif \"%s\" ctime_extra 0\n", $0, $0 }') \
			>"$v.sif"
		E2FSPROGS_FAKE_TIME=1700000000 debugfs -w -f "$v.sif" "$v.ext4" >/dev/null 2>&1
		rm "$v.sif"
	done
	rm -rf v1 v2 rebuilt.txt tot
}
