/*
 * nf-probe: a tiny static helper for tests/kernel/guest-workload.sh.
 *
 * The guest only has busybox, which has no flock(1), no fcntl-lock tool and
 * no way to drive a descriptor after unlink beyond plain reads. This program
 * fills those gaps. kernel-test.sh compiles it on the host with
 * `gcc -static` and hands it to run-guest.sh through GUEST_BINS.
 *
 * Usage (exit 0 = success, 11 = lock conflict (EAGAIN/EWOULDBLOCK/EACCES),
 * 1 = any other error, 2 = usage):
 *   nf-probe flock  FILE ex|sh nb|wait HOLD_MS [READY_FILE]
 *   nf-probe fcntl  FILE wr|rd nb|wait START LEN HOLD_MS [READY_FILE]
 *   nf-probe getlk  FILE wr|rd START LEN
 *       prints "unlocked" or "locked type=wr|rd start=S len=L pid=P"
 *   nf-probe unlinked FILE
 *       creates FILE, unlinks it, then exercises the open descriptor
 *       (write, pread, fstat, ftruncate, fchmod); prints OK/FAIL lines
 *
 * Lock modes take the lock, print "locked waited_ms=N", create READY_FILE
 * (if given) so a shell can wait for it, hold the lock for HOLD_MS, and exit
 * (which releases it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void ready(const char *path) {
    if (path == NULL) return;
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
}

static int conflict(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EACCES; }

static int usage(void) {
    fprintf(stderr,
            "usage: nf-probe flock FILE ex|sh nb|wait HOLD_MS [READY]\n"
            "       nf-probe fcntl FILE wr|rd nb|wait START LEN HOLD_MS [READY]\n"
            "       nf-probe getlk FILE wr|rd START LEN\n"
            "       nf-probe unlinked FILE\n");
    return 2;
}

static int do_flock(int argc, char **argv) {
    if (argc < 6) return usage();
    int op = strcmp(argv[3], "ex") == 0 ? LOCK_EX : LOCK_SH;
    if (strcmp(argv[4], "nb") == 0) op |= LOCK_NB;
    long hold = atol(argv[5]);
    int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    if (fd < 0) { perror("open"); return 1; }
    long t0 = now_ms();
    if (flock(fd, op) == -1) {
        int e = errno;
        printf("flock: %s\n", strerror(e));
        return conflict(e) ? 11 : 1;
    }
    printf("locked waited_ms=%ld\n", now_ms() - t0);
    fflush(stdout);
    ready(argc > 6 ? argv[6] : NULL);
    sleep_ms(hold);
    return 0;
}

static int do_fcntl(int argc, char **argv) {
    if (argc < 8) return usage();
    int wr = strcmp(argv[3], "wr") == 0;
    int cmd = strcmp(argv[4], "nb") == 0 ? F_SETLK : F_SETLKW;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = wr ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = atoll(argv[5]);
    fl.l_len = atoll(argv[6]);
    long hold = atol(argv[7]);
    int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    if (fd < 0) { perror("open"); return 1; }
    long t0 = now_ms();
    if (fcntl(fd, cmd, &fl) == -1) {
        int e = errno;
        printf("fcntl: %s\n", strerror(e));
        return conflict(e) ? 11 : 1;
    }
    printf("locked waited_ms=%ld\n", now_ms() - t0);
    fflush(stdout);
    ready(argc > 8 ? argv[8] : NULL);
    sleep_ms(hold);
    return 0;
}

static int do_getlk(int argc, char **argv) {
    if (argc < 6) return usage();
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = strcmp(argv[3], "wr") == 0 ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = atoll(argv[4]);
    fl.l_len = atoll(argv[5]);
    int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    if (fd < 0) { perror("open"); return 1; }
    if (fcntl(fd, F_GETLK, &fl) == -1) {
        printf("getlk: %s\n", strerror(errno));
        return 1;
    }
    if (fl.l_type == F_UNLCK) {
        printf("unlocked\n");
    } else {
        printf("locked type=%s start=%lld len=%lld pid=%d\n", fl.l_type == F_WRLCK ? "wr" : "rd",
               (long long)fl.l_start, (long long)fl.l_len, (int)fl.l_pid);
    }
    return 0;
}

static int fails;
static void check(int ok, const char *what) {
    printf("%s unlinked_fd_%s\n", ok ? "OK  " : "FAIL", what);
    if (!ok) {
        fails++;
        printf("     errno=%d (%s)\n", errno, strerror(errno));
    }
}

static int do_unlinked(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *p = argv[2];
    const char first[] = "written before unlink\n";
    const char second[] = "written after unlink\n";
    char buf[256];
    struct stat st;
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    errno = 0;
    check(write(fd, first, sizeof first - 1) == (ssize_t)(sizeof first - 1), "write_before");
    errno = 0;
    check(unlink(p) == 0, "unlink");
    errno = 0;
    check(access(p, F_OK) == -1 && errno == ENOENT, "name_gone");
    errno = 0;
    check(write(fd, second, sizeof second - 1) == (ssize_t)(sizeof second - 1), "write_after");
    errno = 0;
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    size_t want = sizeof first - 1 + sizeof second - 1;
    check(n == (ssize_t)want && memcmp(buf, first, sizeof first - 1) == 0 &&
              memcmp(buf + sizeof first - 1, second, sizeof second - 1) == 0,
          "pread");
    errno = 0;
    check(fstat(fd, &st) == 0 && st.st_size == (off_t)want, "fstat_size");
    errno = 0;
    check(fstat(fd, &st) == 0 && st.st_nlink == 0, "fstat_nlink0");
    errno = 0;
    check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate");
    errno = 0;
    check(fchmod(fd, 0600) == 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600, "fchmod");
    errno = 0;
    check(close(fd) == 0, "close");
    return fails ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) return usage();
    if (strcmp(argv[1], "flock") == 0) return do_flock(argc, argv);
    if (strcmp(argv[1], "fcntl") == 0) return do_fcntl(argc, argv);
    if (strcmp(argv[1], "getlk") == 0) return do_getlk(argc, argv);
    if (strcmp(argv[1], "unlinked") == 0) return do_unlinked(argc, argv);
    return usage();
}
