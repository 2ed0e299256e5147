/* Helpers for bench/run.sh, built by it with the C compiler. Not part of
 * hardbox: they measure what hyperfine cannot.
 *
 *   probe sigdrive WARMUP N FIFO -- INIT [ARGS...]
 *       makes FIFO, starts INIT (whose command must be `probe sigchild FIFO`),
 *       sends it SIGTERM WARMUP+N times, each time waiting for the child's
 *       handler, and prints the N latencies (kill to handler) in nanoseconds,
 *       one per line.
 *   probe sigchild FIFO
 *       the child: its TERM handler writes a CLOCK_MONOTONIC timestamp to
 *       FIFO (not stdout, which some inits write their own lines to); it
 *       exits 0 on SIGUSR1.
 *   probe orphans N TIMEOUT_MS
 *       run as the init's command: makes N zombies, orphans them all at once,
 *       and prints the microseconds until the init has reaped every one (or
 *       "timeout K" with K still unreaped, exit 1).
 *   probe runlines FILE
 *       runs each line of FILE as a command (split on blanks, PATH search, no
 *       shell), one after another; stops at the first failure.
 *   probe stats
 *       reads numbers, one per line, and prints "median p25 p75 min max n".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "probe: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

/* Reads exactly one 8-byte record from fd, or gives up after timeout_ms. */
static int read_record(int fd, int64_t *value, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    size_t got = 0;
    while (got < sizeof *value) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        ssize_t n = read(fd, (char *)value + got, sizeof *value - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

static volatile sig_atomic_t quit;
static int out_fd;

static void on_term(int sig) {
    (void)sig;
    int saved = errno;
    int64_t t = now_ns();
    /* 8 bytes into a pipe: one atomic write. */
    if (write(out_fd, &t, sizeof t) != sizeof t) _exit(3);
    errno = saved;
}

static void on_usr1(int sig) {
    (void)sig;
    quit = 1;
}

static int sigchild(const char *fifo) {
    out_fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (out_fd < 0) die(fifo);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    /* The ready record is our pid, negated so it cannot look like a time. */
    int64_t ready = -(int64_t)getpid();
    if (write(out_fd, &ready, sizeof ready) != sizeof ready) return 3;
    sigdelset(&old, SIGTERM);
    sigdelset(&old, SIGUSR1);
    while (!quit) sigsuspend(&old);
    return 0;
}

static int sigdrive(int warmup, int n, const char *fifo, char **init) {
    if (mkfifo(fifo, 0600) < 0) die(fifo);
    /* Read-write, so the FIFO never reads as closed before the child opens it. */
    int fd = open(fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0) die(fifo);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        /* Our stdout carries the results; the init's own lines go to stderr. */
        dup2(2, 1);
        execvp(init[0], init);
        _exit(127);
    }
    int64_t ready;
    if (read_record(fd, &ready, 10000) < 0 || ready >= 0) {
        fprintf(stderr, "probe: %s never started its child\n", init[0]);
        kill(pid, SIGKILL);
        return 2;
    }
    pid_t child = (pid_t)-ready;
    /* The init may block TERM only after it forked; give it a moment to be
     * waiting for signals before the first one, as a real init would be. */
    usleep(100000);
    int64_t *lat = malloc(sizeof *lat * (size_t)n);
    if (!lat) die("malloc");
    for (int i = 0; i < warmup + n; i++) {
        int64_t sent = now_ns(), handled;
        if (kill(pid, SIGTERM) < 0) die("kill");
        if (read_record(fd, &handled, 5000) < 0) {
            fprintf(stderr, "probe: signal %d never reached the child of %s\n", i + 1, init[0]);
            kill(child, SIGKILL);
            kill(pid, SIGKILL);
            return 2;
        }
        if (i >= warmup) lat[i - warmup] = handled - sent;
    }
    kill(child, SIGUSR1);
    int status;
    /* An init that outlives its child by 5 s is stuck: end it. */
    for (int tries = 0; waitpid(pid, &status, WNOHANG) == 0; tries++) {
        if (tries == 500) kill(pid, SIGKILL);
        usleep(10000);
    }
    for (int i = 0; i < n; i++) printf("%lld\n", (long long)lat[i]);
    return 0;
}

static int orphans(int n, int timeout_ms) {
    pid_t *pids = mmap(NULL, sizeof *pids * (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pids == MAP_FAILED) die("mmap");
    pid_t middle = fork();
    if (middle < 0) die("fork");
    if (middle == 0) {
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p < 0) _exit(2);
            if (p == 0) _exit(0);
            pids[i] = p;
        }
        /* Every child a zombie before any is orphaned, so the init gets all
         * of them at the instant this process exits. */
        for (int i = 0; i < n; i++) {
            siginfo_t info;
            if (waitid(P_PID, (id_t)pids[i], &info, WEXITED | WNOWAIT) < 0) _exit(2);
        }
        _exit(0);
    }
    int status;
    if (waitpid(middle, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "probe: could not make %d zombies\n", n);
        return 2;
    }
    /* The middle process has exited: its zombies belong to the init now. */
    int64_t start = now_ns(), deadline = start + (int64_t)timeout_ms * 1000000;
    int i = 0;
    while (i < n) {
        if (kill(pids[i], 0) < 0 && errno == ESRCH) {
            i++;
            continue;
        }
        if (now_ns() > deadline) {
            printf("timeout %d\n", n - i);
            return 1;
        }
        /* Sleep rather than spin, so the init never waits for this CPU;
         * 20 us is far below what reaping thousands takes. */
        struct timespec pause = {0, 20000};
        nanosleep(&pause, NULL);
    }
    printf("%lld\n", (long long)((now_ns() - start) / 1000));
    return 0;
}

static int runlines(const char *file) {
    FILE *f = fopen(file, "re");
    if (!f) die(file);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *argv[64];
        int argc = 0;
        for (char *tok = strtok(line, " \t\n"); tok && argc < 63; tok = strtok(NULL, " \t\n")) argv[argc++] = tok;
        if (argc == 0) continue;
        argv[argc] = NULL;
        pid_t pid;
        int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
        if (err) {
            errno = err;
            die(argv[0]);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0) die("waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "probe: %s failed (status %d)\n", argv[0], status);
            return 1;
        }
    }
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile over sorted values. */
static double pct(const double *v, int n, double p) {
    int k = (int)(p * (n - 1) + 0.5);
    return v[k];
}

static int stats(void) {
    int cap = 1024, n = 0;
    double *v = malloc(sizeof *v * (size_t)cap), x;
    if (!v) die("malloc");
    while (scanf("%lf", &x) == 1) {
        if (n == cap && !(v = realloc(v, sizeof *v * (size_t)(cap *= 2)))) die("realloc");
        v[n++] = x;
    }
    if (n == 0) return 1;
    qsort(v, (size_t)n, sizeof *v, cmp);
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("%.6g %.6g %.6g %.6g %.6g %d\n", median, pct(v, n, 0.25), pct(v, n, 0.75), v[0], v[n - 1], n);
    return 0;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "sigchild") && argc == 3) return sigchild(argv[2]);
    if (!strcmp(what, "sigdrive") && argc > 6 && !strcmp(argv[5], "--"))
        return sigdrive(atoi(argv[2]), atoi(argv[3]), argv[4], argv + 6);
    if (!strcmp(what, "orphans") && argc == 4) return orphans(atoi(argv[2]), atoi(argv[3]));
    if (!strcmp(what, "runlines") && argc == 3) return runlines(argv[2]);
    if (!strcmp(what, "stats")) return stats();
    fprintf(stderr, "usage: see the comment at the top of bench/probe.c\n");
    return 2;
}
