/**
 * @file main.c
 * campaignfs: command line, configuration, accounts, and the FUSE session.
 *
 *   campaignfs [options] [SOURCE] MOUNTPOINT
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "check.h"
#include "config.h"
#include "engine.h"
#include "fs.h"
#include "log.h"
#include "notify.h"
#include "sdnotify.h"
#include "sighup.h"
#include "statusview.h"
#include "store.h"
#include "tree.h"

#define DEFAULT_TTL       60
#define DEFAULT_MAX_STALE 3600
#define DEFAULT_TIMEOUT   60

struct options {
    char *config;
    char *ttl;
    char *max_stale;
    char *timeout;
    char *max_body;
    char *loglevel;
    char *logfile;
    char *uid;
    char *gid;
    char *umask;
    char *cache_dir;
    char *cache_max;
    int offline;
    int show_help;
    int show_version;
    int debug_log;
    int show_status;
    int check;
    int watch;
    char *nonopt[3];
    int n_nonopt;
};

#define OPT(t, p)                                                                                  \
    {                                                                                              \
        t, offsetof(struct options, p), 1                                                          \
    }
static const struct fuse_opt option_spec[] = {
    OPT("config=%s", config),
    OPT("ttl=%s", ttl),
    OPT("max_stale=%s", max_stale),
    OPT("timeout=%s", timeout),
    OPT("max_body=%s", max_body),
    OPT("loglevel=%s", loglevel),
    OPT("logfile=%s", logfile),
    OPT("uid=%s", uid),
    OPT("gid=%s", gid),
    OPT("umask=%s", umask),
    OPT("cache_dir=%s", cache_dir),
    OPT("cache_max=%s", cache_max),
    OPT("offline", offline),
    OPT("--status", show_status),
    OPT("--check", check),
    OPT("--watch", watch),
    OPT("-h", show_help),
    OPT("--help", show_help),
    OPT("-V", show_version),
    OPT("--version", show_version),
    OPT("verbose", debug_log),
    FUSE_OPT_END,
};

static int collect_nonopt(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct options *o = data;

    (void)outargs;
    if (key != FUSE_OPT_KEY_NONOPT)
        return 1;
    if (o->n_nonopt >= 2) {
        fprintf(stderr, "campaignfs: too many arguments: '%s'\n", arg);
        return -1;
    }
    o->nonopt[o->n_nonopt++] = strdup(arg);
    return 0;
}

static void usage(const char *prog)
{
    printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
           "       %s --check [-o config=FILE]\n"
           "       %s --status [--watch] MOUNTPOINT\n\n"
           "Shows the campaigns, contacts and calls of Altur, Burki, Truedy and Kore.ai\n"
           "accounts as a read-only tree of directories and JSON files.\n"
           "SOURCE is accepted and ignored (for mount -t fuse.campaignfs).\n\n"
           "campaignfs options:\n"
           "    -o config=FILE         configuration file (default:\n"
           "                           $XDG_CONFIG_HOME/campaignfs/config or\n"
           "                           ~/.config/campaignfs/config)\n"
           "    -o ttl=SECONDS         how long a fetched listing is fresh (default %d)\n"
           "    -o max_stale=SECONDS   how long past its TTL a listing is still shown\n"
           "                           while it is refreshed (default %d; 0: wait)\n"
           "    -o timeout=SECONDS     longest time one request may take, and longest\n"
           "                           Retry-After waited out (default %d)\n"
           "    -o max_body=SIZE       largest answer accepted, counted after\n"
           "                           decompression (default 64M; K, M, G suffixes)\n"
           "    -o loglevel=LEVEL      error, warn (default), info or debug (one line\n"
           "                           per HTTP request)\n"
           "    -o verbose             the same as -o loglevel=debug\n"
           "    -o logfile=FILE        log to FILE (appended; opened again on SIGHUP)\n"
           "                           instead of stderr (foreground) or syslog\n"
           "    -o uid=USER,gid=GROUP  owner of every file (default: who mounts)\n"
           "    -o umask=MASK          permission bits taken away, octal (e.g. 027)\n"
           "    -o cache_dir=DIR       where listings are kept across mounts (default:\n"
           "                           $XDG_CACHE_HOME/campaignfs or ~/.cache/campaignfs;\n"
           "                           none: nothing is kept)\n"
           "    -o cache_max=SIZE      most bytes kept there (default 1G; K, M, G, T);\n"
           "                           the least recently used listings go first\n"
           "    -o offline             no requests at all: only what is kept on disk\n"
           "    --check                check each account with one request, then exit\n"
           "    --status MOUNTPOINT    show what a mount is doing (--watch: every second)\n"
           "    -h, --help             this help\n"
           "    -V, --version          the version\n\n"
           "FUSE options:\n",
           prog, prog, prog, DEFAULT_TTL, DEFAULT_MAX_STALE, DEFAULT_TIMEOUT);
    fuse_cmdline_help();
    fuse_lowlevel_help();
}

/* -o NAME=TEXT: whole seconds, at least min. */
static int parse_seconds(const char *name, const char *text, long min, long *out)
{
    char *end;

    if (!text)
        return 0;
    errno = 0;
    *out = strtol(text, &end, 10);
    if (errno || end == text || *end || *out < min) {
        fprintf(stderr, "campaignfs: -o %s=%s: not a whole number of seconds >= %ld\n", name, text,
                min);
        return -1;
    }
    return 0;
}

/* -o NAME=SIZE: bytes, with an optional K, M, G or T (powers of 1024), in [min, max]. */
static int parse_size(const char *name, const char *text, long long min, long long max, size_t *out)
{
    static const char units[] = "KMGT";
    long long v;
    char *end;
    const char *u;

    if (!text)
        return 0;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (!errno && end != text && *end && !end[1] &&
        (u = strchr(units, toupper((unsigned char)*end)))) {
        for (long i = 0; i <= u - units && v <= max; i++) /* v <= max: no overflow */
            v *= 1024;
        end++;
    }
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr,
                "campaignfs: -o %s=%s: not a size from %lld to %lld bytes (K, M, G, T allowed)\n",
                name, text, min, max);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* -o uid=, gid=: a number or a name. */
static int parse_owner(const char *name, const char *text, bool group, unsigned *out)
{
    char *end;
    unsigned long v;

    if (!text)
        return 0;
    errno = 0;
    v = strtoul(text, &end, 10);
    if (!errno && end != text && !*end && v < UINT_MAX) {
        *out = (unsigned)v;
        return 0;
    }
    if (group) {
        struct group *g = getgrnam(text);
        if (g) {
            *out = g->gr_gid;
            return 0;
        }
    } else {
        struct passwd *pw = getpwnam(text);
        if (pw) {
            *out = pw->pw_uid;
            return 0;
        }
    }
    fprintf(stderr, "campaignfs: -o %s=%s: no such %s (give a name or a number)\n", name, text,
            group ? "group" : "user");
    return -1;
}

/* -o umask=: octal permission bits. */
static int parse_umask(const char *text, mode_t *out)
{
    char *end;
    unsigned long v;

    if (!text)
        return 0;
    errno = 0;
    v = strtoul(text, &end, 8);
    if (errno || end == text || *end || v > 0777) {
        fprintf(stderr, "campaignfs: -o umask=%s: not an octal mask from 000 to 777\n", text);
        return -1;
    }
    *out = (mode_t)v;
    return 0;
}

/* -o loglevel=, verbose and logfile=. */
static int set_up_logging(const struct options *o)
{
    int level = o->debug_log ? LOG_LVL_DEBUG : LOG_LVL_WARN;
    int rc;

    if (o->loglevel) {
        level = log_level_parse(o->loglevel);
        if (level < 0) {
            fprintf(stderr, "campaignfs: -o loglevel=%s: say error, warn, info or debug\n",
                    o->loglevel);
            return -1;
        }
    }
    log_set_level((enum log_level)level);
    if (!o->logfile)
        return 0;
    rc = log_open_file(o->logfile);
    if (rc < 0) {
        fprintf(stderr, "campaignfs: -o logfile=%s: %s\n", o->logfile, strerror(-rc));
        return -1;
    }
    return 0;
}

static int open_accounts(const struct config *cfg, long ttl, struct account **out)
{
    struct account *accts = calloc(cfg->n_accounts, sizeof(*accts));
    char err[1024];

    if (!accts)
        return -1;
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        if (account_open(&accts[i], &cfg->accounts[i], cfg->path, ttl, err, sizeof(err)) < 0) {
            fprintf(stderr, "campaignfs: %s\n", err);
            for (size_t j = 0; j <= i; j++)
                account_close(&accts[j]);
            free(accts);
            return -1;
        }
    }
    *out = accts;
    return 0;
}

/* campaignfs --check: the config, its accounts, one request each. */
static int run_check(const char *config_path, long timeout, size_t max_body)
{
    struct config cfg = {0};
    struct account *accts = NULL;
    char err[1024];
    int rc = 1;

    if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "campaignfs: %s\n", err);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (open_accounts(&cfg, DEFAULT_TTL, &accts) == 0) {
        rc = check_accounts(accts, cfg.n_accounts, timeout, max_body, stdout);
        for (size_t i = 0; i < cfg.n_accounts; i++)
            account_close(&accts[i]);
        free(accts);
    }
    curl_global_cleanup();
    config_free(&cfg);
    return rc;
}

/* Adds the mount options campaignfs always wants. */
static int add_fixed_options(struct fuse_args *args, const char *mountpoint)
{
    /* not "ro": .campaignfs/refresh takes writes; everything else answers
     * EROFS.  default_permissions: the kernel checks the modes (with
     * allow_other too) */
    return fuse_opt_add_arg(args, "-odefault_permissions,fsname=campaignfs,subtype=campaignfs") ||
           fuse_opt_add_arg(args, mountpoint);
}

static int run_loop(struct fuse_session *se, struct fuse_cmdline_opts *fo)
{
    struct fuse_loop_config *lc;
    int rc;

    if (fo->singlethread)
        return fuse_session_loop(se);
    lc = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(lc, fo->clone_fd);
    fuse_loop_cfg_set_max_threads(lc, fo->max_threads);
    if (fo->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
        fuse_loop_cfg_set_idle_threads(lc, fo->max_idle_threads);
    rc = fuse_session_loop_mt(se, lc);
    fuse_loop_cfg_destroy(lc);
    return rc;
}

/* Where the disk copy goes (-o cache_dir, cache_max, offline). */
struct disk_options {
    const char *dir; /* NULL: none */
    const char *config;
    size_t max;
    bool offline;
};

/* Opens the disk copy (after daemonizing: it runs threads).  0, or -1 when
 * the mount cannot go on without it (offline). */
static int open_disk(struct tree *t, const struct disk_options *d)
{
    char err[1024];

    t->offline = d->offline;
    if (!d->dir) {
        if (d->offline) {
            log_error("-o offline shows only the disk copy, and there is none (-o cache_dir=none, "
                      "or no HOME): give -o cache_dir=DIR");
            return -1;
        }
        return 0;
    }
    t->disk = store_open(d->dir, d->config, t->accounts, t->n_accounts, d->max, err, sizeof(err));
    if (t->disk)
        return 0;
    if (d->offline) {
        log_error("%s: -o offline has nothing to show without it", err);
        return -1;
    }
    log_warn("%s: going on without a disk copy (nothing is kept across mounts)", err);
    return 0;
}

static int run_session(struct fuse_args *args, struct fuse_cmdline_opts *fo, struct tree *t,
                       bool logfile, const struct disk_options *disk)
{
    struct fs fs;
    struct fuse_session *se;
    int rc = 1;

    fs_init(&fs, t);
    se = fuse_session_new(args, &campaignfs_ops, sizeof(campaignfs_ops), &fs);
    if (!se) {
        fs_fini(&fs);
        return 1;
    }
    if (fuse_set_signal_handlers(se) != 0)
        goto out_destroy;
    if (fuse_session_mount(se, fo->mountpoint) != 0)
        goto out_signals;
    if (!fo->foreground && !logfile)
        log_use_syslog(true);
    fuse_daemonize(fo->foreground);
    if (open_disk(t, disk) < 0)
        goto out_unmount;
    if (sighup_start(t) != 0)
        log_warn("SIGHUP cannot be handled: it will end the mount");
    if (engine_start(t->engine) != 0) {
        log_error("cannot start the fetch engine's thread");
        goto out_unmount;
    }
    t->notifier = notifier_new(se);
    sdnotify("READY=1");
    rc = run_loop(se, fo);
    sdnotify("STOPPING=1");
    /* every request left ends now, so no reader waits on a dead mount */
    engine_stop(t->engine);
    /* nothing more goes to the kernel, then the mount goes (which also ends
     * an invalidation waiting for locks held by requests nobody answers) */
    notifier_quiesce(t->notifier, 2);
    fuse_session_unmount(se);
    notifier_free(t->notifier);
    t->notifier = NULL;
    store_close(t->disk); /* what is still queued is written first */
    t->disk = NULL;
    log_debug("%lu requests waited for a load, %lu of them were interrupted",
              (unsigned long)atomic_load(&fs.parked), (unsigned long)atomic_load(&fs.interrupted));
    goto out_signals;
out_unmount:
    fuse_session_unmount(se);
    store_close(t->disk);
    t->disk = NULL;
out_signals:
    sighup_stop();
    fuse_remove_signal_handlers(se);
out_destroy:
    fuse_session_destroy(se); /* runs destroy: the handles still open are freed */
    fs_fini(&fs);
    return rc ? 1 : 0;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct options o = {0};
    struct fuse_cmdline_opts fo = {0};
    struct config cfg = {0};
    struct account *accts = NULL;
    struct tree t;
    char err[1024];
    long ttl = DEFAULT_TTL, max_stale = DEFAULT_MAX_STALE, timeout = DEFAULT_TIMEOUT;
    size_t max_body = HTTP_DEFAULT_MAX_BODY, cache_max = STORE_DEFAULT_MAX;
    struct disk_options disk = {0};
    char *default_dir = NULL;
    unsigned uid = 0, gid = 0;
    mode_t umask_bits = 0;
    struct engine *engine = NULL;
    int rc = 1;

    log_init("campaignfs", LOG_LVL_WARN, false);
    if (fuse_opt_parse(&args, &o, option_spec, collect_nonopt) != 0)
        goto out_args;
    if (o.show_help) {
        usage(argv[0]);
        rc = 0;
        goto out_args;
    }
    if (o.show_version) {
        printf("campaignfs %s (libfuse %s, %s)\n", CAMPAIGNFS_VERSION, fuse_pkgversion(),
               curl_version());
        rc = 0;
        goto out_args;
    }
    if (o.n_nonopt == 0 && !o.check) {
        fprintf(stderr, "campaignfs: no mount point given (see campaignfs --help)\n");
        goto out_args;
    }
    if (o.show_status || o.watch) {
        rc = statusview_main(o.nonopt[o.n_nonopt - 1], o.watch);
        goto out_args;
    }
    if (set_up_logging(&o) < 0 || parse_owner("uid", o.uid, false, &uid) < 0 ||
        parse_owner("gid", o.gid, true, &gid) < 0 || parse_umask(o.umask, &umask_bits) < 0)
        goto out_args;
    if (parse_seconds("ttl", o.ttl, 0, &ttl) < 0 ||
        parse_seconds("max_stale", o.max_stale, 0, &max_stale) < 0 ||
        parse_seconds("timeout", o.timeout, 1, &timeout) < 0 ||
        parse_size("max_body", o.max_body, 1024, HTTP_MAX_BODY, &max_body) < 0 ||
        parse_size("cache_max", o.cache_max, 0, LLONG_MAX / 2, &cache_max) < 0)
        goto out_args;
    if (!o.config)
        o.config = config_default_path();
    if (o.check) {
        rc = run_check(o.config, timeout, max_body);
        goto out_args;
    }
    if (add_fixed_options(&args, o.nonopt[o.n_nonopt - 1]) != 0 ||
        fuse_parse_cmdline(&args, &fo) != 0)
        goto out_args;
    if (config_load(o.config, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "campaignfs: %s\n", err);
        goto out_args;
    }
    if (!o.cache_dir)
        o.cache_dir = default_dir = store_default_dir();
    disk =
        (struct disk_options){o.cache_dir && strcmp(o.cache_dir, "none") != 0 ? o.cache_dir : NULL,
                              o.config, cache_max, o.offline != 0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (open_accounts(&cfg, ttl, &accts) == 0) {
        engine = engine_new(accts, cfg.n_accounts, timeout, max_body);
        if (engine && tree_init(&t, accts, cfg.n_accounts, ttl, max_stale, engine) == 0) {
            t.uid = o.uid ? (uid_t)uid : t.uid;
            t.gid = o.gid ? (gid_t)gid : t.gid;
            t.umask = umask_bits;
            rc = run_session(&args, &fo, &t, o.logfile != NULL, &disk);
            engine_stop(engine); /* if the session never started it */
            tree_destroy(&t);
        }
        engine_free(engine);
        for (size_t i = 0; i < cfg.n_accounts; i++)
            account_close(&accts[i]);
        free(accts);
    }
    curl_global_cleanup();
    config_free(&cfg);
out_args:
    free(fo.mountpoint);
    free(o.config);
    free(o.ttl);
    free(o.max_stale);
    free(o.timeout);
    free(o.max_body);
    free(o.loglevel);
    free(o.logfile);
    free(o.uid);
    free(o.gid);
    free(o.umask);
    if (o.cache_dir != default_dir)
        free(o.cache_dir);
    free(default_dir);
    free(o.cache_max);
    for (int i = 0; i < o.n_nonopt; i++)
        free(o.nonopt[i]);
    fuse_opt_free_args(&args);
    return rc;
}
