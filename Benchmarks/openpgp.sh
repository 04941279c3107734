#!/usr/bin/env bash
# OpenPGP: quercus-sop against gpg (GnuPG 2.2) and sqop (Sequoia) on the same random file, each
# with its own Curve25519 key (v4, SEIPD v1, so the three write the same kind of message):
# public-key encrypt and decrypt, password encrypt and decrypt, detached sign and verify, and
# (ours and sqop) inline-sign and inline-verify.
# Also ours with a v6 key and SEIPD v2 (AES-OCB), which the peers here do not write.
# Reports MiB per CPU second (user + system from /usr/bin/time) and peak resident memory, and
# ours/gpg. SMOKE=1: 8 MiB instead of 256 MiB. SCRATCH=.build-x builds with that scratch path.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in gpg sqop /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "openpgp: $tool missing (make test installs the peers)"; exit 1; }
done
mib=${SIZE_MIB:-256}
[ "${SMOKE:-}" = 1 ] && mib=8
scratch=()
[ -n "${SCRATCH:-}" ] && scratch=(--scratch-path "$SCRATCH")
swift build -c release "${scratch[@]}" --product quercus-sop >/dev/null
ours=$(swift build -c release "${scratch[@]}" --show-bin-path)/quercus-sop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg=(gpg --batch --quiet --pinentry-mode loopback --trust-model always -z 0 --passphrase '')

head -c $((mib * 1024 * 1024)) /dev/urandom > "$work/data"
printf 'benchmark password' > "$work/password"
"$ours" generate-key --profile rfc4880 "Ours <ours@bench.test>" > "$work/ours.key"
"$ours" extract-cert < "$work/ours.key" > "$work/ours.cert"
"$ours" generate-key "Ours6 <ours6@bench.test>" > "$work/ours-v6.key"
"$ours" extract-cert < "$work/ours-v6.key" > "$work/ours-v6.cert"
sqop generate-key "Sqop <sqop@bench.test>" > "$work/sqop.key"
sqop extract-cert < "$work/sqop.key" > "$work/sqop.cert"
"${gpg[@]}" --quick-gen-key "Gpg <gpg@bench.test>" future-default default never 2>/dev/null

# measure NAME COMMAND…: runs it with standard output to $work/NAME.out, prints CPU s and peak KiB.
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%U %S %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err"
  awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$work/$name.time"
}

row() {
  local operation=$1 tool=$2 figures=$3
  read -r cpu rss <<< "$figures"
  # /usr/bin/time counts CPU in 10 ms steps: a run under that (SMOKE=1's 8 MiB) has no rate.
  awk -v op="$operation" -v tool="$tool" -v cpu="$cpu" -v rss="$rss" -v mib="$mib" \
    'BEGIN { rate = cpu > 0 ? sprintf("%9.1f MiB/s CPU", mib / cpu) : sprintf("%19s", "under 10 ms CPU")
             printf "%-22s %-8s %s %8.1f MiB peak RSS\n", op, tool, rate, rss / 1024 }'
  echo "$operation $tool $cpu" >> "$work/results"
}

echo "OpenPGP, $mib MiB of random data"
for tool in gpg sqop ours ours-v6; do
  case $tool in
    gpg)
      row "encrypt (public key)" gpg "$(measure gpg-enc "${gpg[@]}" -e -r gpg@bench.test -o - "$work/data")"
      row "decrypt (public key)" gpg "$(measure gpg-dec "${gpg[@]}" -d -o - "$work/gpg-enc.out")"
      row "encrypt (password)" gpg "$(measure gpg-sym "${gpg[@]}" --passphrase-file "$work/password" -c -o - "$work/data")"
      row "decrypt (password)" gpg "$(measure gpg-symdec "${gpg[@]}" --passphrase-file "$work/password" -d -o - "$work/gpg-sym.out")"
      row "sign (detached)" gpg "$(measure gpg-sign "${gpg[@]}" --detach-sign -o - "$work/data")"
      row "verify" gpg "$(measure gpg-verify "${gpg[@]}" --verify "$work/gpg-sign.out" "$work/data")"
      ;;
    ours-v6)
      # v6 key and SEIPD v2 (AES-OCB): no peer here writes these, so no ratio.
      row "encrypt (public key)" $tool "$(measure $tool-enc "$ours" encrypt --no-armor "$work/$tool.cert" < "$work/data")"
      row "decrypt (public key)" $tool "$(measure $tool-dec "$ours" decrypt "$work/$tool.key" < "$work/$tool-enc.out")"
      row "encrypt (password)" $tool "$(measure $tool-sym "$ours" encrypt --no-armor --with-password "$work/password" < "$work/data")"
      row "decrypt (password)" $tool "$(measure $tool-symdec "$ours" decrypt --with-password "$work/password" < "$work/$tool-sym.out")"
      ;;
    sqop | ours)
      [ $tool = ours ] && sop=$ours || sop=sqop
      row "encrypt (public key)" $tool "$(measure $tool-enc $sop encrypt --no-armor "$work/$tool.cert" < "$work/data")"
      row "decrypt (public key)" $tool "$(measure $tool-dec $sop decrypt "$work/$tool.key" < "$work/$tool-enc.out")"
      profile=()
      [ $tool = ours ] && profile=(--profile rfc4880)
      row "encrypt (password)" $tool "$(measure $tool-sym $sop encrypt --no-armor "${profile[@]}" --with-password "$work/password" < "$work/data")"
      row "decrypt (password)" $tool "$(measure $tool-symdec $sop decrypt --with-password "$work/password" < "$work/$tool-sym.out")"
      row "sign (detached)" $tool "$(measure $tool-sign $sop sign --no-armor "$work/$tool.key" < "$work/data")"
      row "verify" $tool "$(measure $tool-verify $sop verify "$work/$tool-sign.out" "$work/$tool.cert" < "$work/data")"
      row "inline-sign" $tool "$(measure $tool-isign $sop inline-sign --no-armor "$work/$tool.key" < "$work/data")"
      row "inline-verify" $tool "$(measure $tool-iverify $sop inline-verify "$work/$tool.cert" < "$work/$tool-isign.out")"
      ;;
  esac
done
for tool in ours ours-v6 sqop; do
  cmp -s "$work/$tool-dec.out" "$work/data" && cmp -s "$work/$tool-symdec.out" "$work/data" \
    || { echo "openpgp: $tool did not decrypt to the original data"; exit 1; }
done
for tool in ours sqop; do
  cmp -s "$work/$tool-iverify.out" "$work/data" || { echo "openpgp: $tool inline-verify did not give the data"; exit 1; }
done
echo "ours/gpg CPU time (below 1 is faster than gpg):"
awk '$NF != "" { split($0, f, " "); n = NF; cpu = $n; tool = $(n - 1); $n = ""; $(n - 1) = ""; op = $0
       if (tool == "gpg") g[op] = cpu; if (tool == "ours") o[op] = cpu }
     END { for (op in o) if (op in g) if (g[op] > 0 && o[op] > 0) printf "  %-24s %.2f\n", op, o[op] / g[op]
                                      else printf "  %-24s too fast to time (SIZE_MIB larger than %d)\n", op, '"$mib"' }' "$work/results"
