#!/usr/bin/env bash
# Install WordNet 3.0 where nltk finds it, from Debian's packages (idempotent).
#
# nltk's own downloader needs a host this project cannot reach, so the dictionary comes from
# Debian's `wordnet-base` and `wordnet-sense-index` packages. Their files are COPIED (nltk 3.10
# refuses symlinks and files outside its data roots) into DEST/corpora/wordnet, together with
# the `lexnames` table nltk also reads, which Debian ships only as the lexnames(5WN) man page.
# The folder is built beside its final place and renamed into it, so an interrupted run never
# leaves a half-filled corpus. mmgrounding.text.wordnet.get_wordnet() looks in the same default
# place without any configuration.
#
# Usage: bash tools/setup_wordnet.sh [DEST]
#   DEST               nltk data root (default: $MMGROUNDING_NLTK_DATA, else
#                      ${MMGROUNDING_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mmgrounding}/nltk_data)
# Environment:
#   PYTHON             interpreter whose nltk is checked (default: .venv/bin/python, else python3)
#   WORDNET_DEB_DIR    folder holding Debian's dictionary files (default: found with dpkg -L)
# Exits non-zero, saying what is missing, when WordNet could not be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MMGROUNDING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmgrounding}"
DEST="${1:-${MMGROUNDING_NLTK_DATA:-$CACHE/nltk_data}}"
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; fi
fi
PACKAGES=(wordnet-base wordnet-sense-index)
# The files nltk's WordNetCorpusReader opens, besides `lexnames`, which this script writes.
NLTK_FILES=(cntlist.rev index.sense index.adj index.adv index.noun index.verb
            data.adj data.adv data.noun data.verb adj.exc adv.exc noun.exc verb.exc)

log() { printf '[wordnet] %s\n' "$*"; }
die() { printf '[wordnet] error: %s\n' "$*" >&2; exit 1; }

has_nltk() { "$PYTHON" -c 'import nltk' 2>/dev/null; }

# Exit 0 when nltk loads WordNet, and reads each of its data files, from its own data path or
# from the nltk data root "$1".
nltk_loads_wordnet() {
    "$PYTHON" - "$@" 2>/dev/null <<'EOF'
import sys
import nltk
if len(sys.argv) > 1:
    nltk.data.path.append(sys.argv[1])
from nltk.corpus import wordnet
for word, pos in (('dog', 'n'), ('run', 'v'), ('red', 'a'), ('quickly', 'r')):
    assert wordnet.synsets(word, pos=pos), (word, pos)
assert wordnet.lemma('dog.n.01.dog').count() > 0  # cntlist.rev
assert wordnet.lemma_from_key('dog%1:05:00::').synset().name() == 'dog.n.01'  # index.sense
EOF
}

corpus_complete() {  # $1: a corpora/wordnet folder
    local f
    for f in lexnames "${NLTK_FILES[@]}"; do [ -s "$1/$f" ] || return 1; done
}

# 1. Nothing to do when nltk already finds WordNet (its own data, or ours from an earlier run).
if has_nltk; then
    if nltk_loads_wordnet "$DEST"; then
        log "nltk already loads WordNet (own data path or $DEST); nothing to do"
        exit 0
    fi
elif corpus_complete "$DEST/corpora/wordnet"; then
    log "WordNet already in $DEST/corpora/wordnet ($PYTHON has no nltk to check it with)"
    exit 0
fi

# 2. Debian's dictionary files, installed through apt-get when missing.
debian_dir() {
    if [ -n "${WORDNET_DEB_DIR:-}" ]; then echo "$WORDNET_DEB_DIR"; return; fi
    command -v dpkg >/dev/null || return 0
    dpkg -L "${PACKAGES[@]}" 2>/dev/null | grep '/data\.noun$' | head -n 1 | xargs -r dirname
}
debian_complete() { [ -n "$1" ] && [ -s "$1/data.noun" ] && [ -s "$1/index.sense" ]; }

SRC="$(debian_dir || true)"
if ! debian_complete "$SRC"; then
    command -v apt-get >/dev/null \
        || die "Debian's WordNet files are missing and apt-get is not available: install the" \
               "packages ${PACKAGES[*]} (or set WORDNET_DEB_DIR to a WordNet 3.0 dict folder)."
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "installing ${PACKAGES[*]} needs root (or sudo)"
        SUDO=(sudo -n)
    fi
    install=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
             --no-install-recommends "${PACKAGES[@]}")
    log "installing ${PACKAGES[*]} with apt-get"
    if ! "${install[@]}"; then
        log "apt-get install failed; updating the package lists and trying again"
        "${SUDO[@]}" apt-get update -q || die "apt-get update failed"
        "${install[@]}" || die "apt-get install ${PACKAGES[*]} failed"
    fi
    SRC="$(debian_dir || true)"
    debian_complete "$SRC" || die "${PACKAGES[*]} installed, but data.noun/index.sense not found"
fi
log "Debian's WordNet files: $SRC"

# 3. The lexnames table (file number, lexicographer file, syntactic category: 1 noun, 2 verb,
#    3 adjective, 4 adverb), parsed from the lexnames(5WN) page that wordnet-base installs.
#    The table written out below is the same list, from the same page, for systems that
#    strip manual pages; both paths are checked against the data files further down.
lexnames_from_man() {
    local page
    page="$(dpkg -L wordnet-base 2>/dev/null | grep '/man5/lexnames\.5' | head -n 1 || true)"
    [ -n "$page" ] && [ -s "$page" ] || return 1
    { case "$page" in *.gz) gzip -dc "$page" ;; *) cat "$page" ;; esac; } | awk -F'\t' '
        /^\.TS/ { table = 1; next }
        /^\.TE/ { table = 0 }
        table && $1 ~ /^[0-9][0-9]$/ {
            name = $2; gsub(/[ ]+/, "", name)
            split(name, part, ".")
            cat = (part[1] == "noun") ? 1 : (part[1] == "verb") ? 2 : (part[1] == "adj") ? 3 \
                : (part[1] == "adv") ? 4 : 0
            if (cat == 0) exit 1
            printf "%s\t%s\t%d\n", $1, name, cat
        }'
}
lexnames_builtin() {
    local i=0 name cat
    for name in adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact \
        noun.attribute noun.body noun.cognition noun.communication noun.event noun.feeling \
        noun.food noun.group noun.location noun.motive noun.object noun.person \
        noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation \
        noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition \
        verb.communication verb.competition verb.consumption verb.contact verb.creation \
        verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative \
        verb.weather adj.ppl; do
        case "$name" in noun.*) cat=1 ;; verb.*) cat=2 ;; adj.*) cat=3 ;; adv.*) cat=4 ;; esac
        printf '%02d\t%s\t%d\n' "$i" "$name" "$cat"
        i=$((i + 1))
    done
}

# 4. Build the corpus in a private nltk data root inside DEST, check that nltk reads it there,
#    then rename it into DEST/corpora/wordnet (same file system: the rename is atomic).
mkdir -p "$DEST/corpora"
STAGE="$(mktemp -d "$DEST/.staging.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
TMP="$STAGE/corpora/wordnet"
mkdir -p "$TMP"
chmod 755 "$STAGE" "$STAGE/corpora" "$TMP"
find "$SRC" -maxdepth 1 -type f -exec cp -p -- {} "$TMP"/ \;
if lexnames_from_man > "$TMP/lexnames" && [ -s "$TMP/lexnames" ]; then
    lexsource="lexnames(5WN) manual page of wordnet-base"
    if ! diff <(lexnames_builtin) "$TMP/lexnames" >&2; then
        die "the lexnames(5WN) page disagrees with this script's table (diff above)"
    fi
else
    lexnames_builtin > "$TMP/lexnames"
    lexsource="built-in table (lexnames(5WN) page not installed)"
fi
lines="$(wc -l < "$TMP/lexnames")"
[ "$lines" -eq 45 ] || die "lexnames has $lines lines, not the 45 of WordNet 3.0"
# Every synset's lexicographer file number (field 2 of a data.* line) must name a file of the
# data file's own syntactic category (adjectives: adj.*; adverbs: adv.*; ...).
for pos in noun verb adj adv; do
    awk -v pos="$pos" '
        NR == FNR { name[$1 + 0] = $2; next }
        /^  / { next }  # licence header
        { split(name[$2 + 0], part, "."); if (part[1] != pos) { bad = 1; exit } }
        END { exit bad }' "$TMP/lexnames" "$TMP/data.$pos" \
        || die "lexnames does not match data.$pos (a lexicographer file of the wrong category)"
done
corpus_complete "$TMP" || die "$SRC lacks files nltk needs: lexnames ${NLTK_FILES[*]}"
if has_nltk; then
    nltk_loads_wordnet "$STAGE" || die "nltk cannot read the WordNet built in $TMP"
fi

final="$DEST/corpora/wordnet"
if [ -e "$final" ]; then  # an incomplete or unreadable earlier copy
    old="$(mktemp -d "$DEST/corpora/.wordnet-old.XXXXXX")"
    mv "$final" "$old/"
    mv "$TMP" "$final"
    rm -rf "$old"
else
    mv "$TMP" "$final"
fi
rm -rf "$STAGE"
trap - EXIT
log "WordNet 3.0 copied from $SRC into $final"
log "lexnames from the $lexsource"
if has_nltk; then
    nltk_loads_wordnet "$DEST" || die "nltk still cannot load WordNet from $DEST"
    log "nltk ($PYTHON) loads it once $DEST is on nltk.data.path; mmgrounding adds it itself"
fi
