# scripts/lib/common.sh: shared by the project's shell scripts.
#   . "$(dirname "$0")/lib/common.sh"

FORESIGHT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# not "foresight": a role of the same name as the extension's schema would put
# that schema first in search_path ("$user") for the tests' superuser
FORESIGHT_USER=${FORESIGHT_USER:-foresight_dev}
PG_MAJOR=15

die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
note() { printf '==> [%s] %s\n' "$(date +%T)" "$*"; }

# Debian packages the project needs to build, test and run its demo.
FORESIGHT_PACKAGES=(
	build-essential
	postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-client-$PG_MAJOR
	libpq-dev libprotobuf-c-dev protobuf-c-compiler
	libipc-run-perl rsync procps python3
)

# Install whatever of the given packages is missing (apt-get; as root, or
# through sudo).  Safe to run again: installed packages are left alone.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	note "installing Debian packages: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "missing packages (${missing[*]}); install them as root: apt-get install ${missing[*]}"
		sudo=(sudo)
	fi
	# the Debian packages start no cluster of their own here
	if [ ! -e /etc/postgresql-common/createcluster.d/50-foresight.conf ]; then
		"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
		echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/50-foresight.conf >/dev/null
	fi
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
		|| die "apt-get install ${missing[*]} failed"
}

# (as root) create the unprivileged user $FORESIGHT_USER if it does not exist
ensure_foresight_user() {
	id -u "$FORESIGHT_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$FORESIGHT_USER" \
		|| die "could not create user $FORESIGHT_USER"
}

# When running as root, run this script again as the unprivileged user
# $FORESIGHT_USER (created if needed) from a copy of the tree it can own:
# initdb and the TAP suite refuse to run as root.  Sets nothing otherwise.
reexec_unprivileged() {
	[ "$(id -u)" -eq 0 ] || return 0
	local script=$1; shift
	ensure_foresight_user
	local home copy
	home=$(getent passwd "$FORESIGHT_USER" | cut -d: -f6)
	# one copy per source tree, so that several clones never share a build
	copy="$home/pg_foresight-$(printf '%s' "$FORESIGHT_ROOT" | md5sum | cut -c1-8)"
	note "running as user $FORESIGHT_USER from $copy (initdb refuses root)"
	mkdir -p "$copy"
	rsync -a --delete --exclude .git --exclude /.build --exclude '*.o' --exclude '*.so' \
		"$FORESIGHT_ROOT/" "$copy/" || die "could not copy the tree to $copy"
	chown -R "$FORESIGHT_USER:" "$copy"
	local shared=${FORESIGHT_SHARED:-$FORESIGHT_ROOT/../shared}
	local run=(runuser -u "$FORESIGHT_USER" -- env FORESIGHT_VIA_ROOT=1
		FORESIGHT_SHARED="$(cd "$shared" 2>/dev/null && pwd || printf '%s' "$shared")" CGROUP_NAME="${CGROUP_NAME:-}"
		CI="${CI:-}" bash "$copy/$script" "$@")
	if [ -z "${FORESIGHT_COPY_BACK:-}" ]; then
		exec "${run[@]}"
	fi
	# benchmarks: bring their reports back into this tree
	local rc=0
	"${run[@]}" || rc=$?
	mkdir -p "$FORESIGHT_ROOT/$FORESIGHT_COPY_BACK"
	cp -r "$copy/$FORESIGHT_COPY_BACK/." "$FORESIGHT_ROOT/$FORESIGHT_COPY_BACK/" 2>/dev/null || true
	exit $rc
}

# The private copy of PostgreSQL with the extension installed, as
# PostgreSQL's own "make check" does: no root needed, nothing system-wide.
FORESIGHT_BUILD=${FORESIGHT_BUILD:-$FORESIGHT_ROOT/.build}
FORESIGHT_INSTALL=$FORESIGHT_BUILD/install
FORESIGHT_BINDIR=$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/bin
FORESIGHT_PGXS=$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/lib/pgxs

# FORESIGHT_BITCODE=no (scripts/test.sh) builds without the LLVM bitcode
# that PGXS makes of every file for JIT inlining: the build takes half the
# time (21 s against 42 on two cores), and no test reads the bitcode.  The
# bitcode of an earlier install is removed then, so that JIT never inlines
# functions of an older build.
# The first of n ports in a row that a server can listen on here now,
# between 20000 and 32000: below the kernel's ephemeral ports (32768 and
# up on Linux), where a client connection's local port can take a port
# the moment before a server binds it ("could not bind IPv4 address:
# Address already in use").
port_is_free() {
	perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => $ARGV[0], Listen => 1, ReuseAddr => 1) or exit 1' "$1"
}
free_port_block() {
	local n=${1:-1} p i try
	for ((try = 0; try < 100; try++)); do
		p=$((20000 + RANDOM % (12000 - n)))
		for ((i = 0; i < n; i++)); do
			port_is_free $((p + i)) || continue 2
		done
		echo "$p"
		return 0
	done
	die "no $n free ports in a row between 20000 and 32000"
}

build_and_install() {
	local flags=()
	[ "${FORESIGHT_BITCODE:-yes}" = no ] && flags=(with_llvm=no)
	note "building pg_foresight${flags:+ (${flags[*]})}"
	make -C "$FORESIGHT_ROOT" -s -j2 "${flags[@]}" all >/dev/null || die "build failed"
	if [ ! -x "$FORESIGHT_BINDIR/postgres" ]; then
		mkdir -p "$FORESIGHT_INSTALL/usr/lib/postgresql" "$FORESIGHT_INSTALL/usr/share/postgresql"
		cp -a /usr/lib/postgresql/$PG_MAJOR "$FORESIGHT_INSTALL/usr/lib/postgresql/"
		cp -a /usr/share/postgresql/$PG_MAJOR "$FORESIGHT_INSTALL/usr/share/postgresql/"
	fi
	[ ${#flags[@]} -eq 0 ] || rm -rf "$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/lib/bitcode/pg_foresight" \
		"$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/lib/bitcode/pg_foresight.index.bc"
	make -C "$FORESIGHT_ROOT" -s "${flags[@]}" install DESTDIR="$FORESIGHT_INSTALL" >/dev/null || die "make install failed"
}
