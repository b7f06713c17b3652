/**
 * @file main.c
 * campaignfs-sim's command line and lifecycle: parse the options (and
 * read the TLS files), build the world and listen (server.c), write the
 * port file and the config, then serve until SIGINT/SIGTERM and free
 * everything.
 */
#include "control.h"
#include "output.h"
#include "sim.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: campaignfs-sim [OPTION]...\n"
    "A local HTTP simulator of the Altur, Burki, Truedy and Kore.ai campaign APIs,\n"
    "all on one port under their real path prefixes.\n"
    "\n"
    "  --listen ADDR:PORT     address to listen on (default 127.0.0.1:0, port 0 =\n"
    "                         the kernel picks; IPv6 as [::1]:PORT)\n"
    "  --port-file FILE       write the bound port and a newline to FILE (atomically)\n"
    "  --config-out FILE      write a campaignfs config for this simulator to FILE\n"
    "  --seed N               dataset, credentials and faults seed (default 1)\n"
    "  --campaigns N          campaigns per provider (default 4, at least 1)\n"
    "  --contacts N           contacts per ordinary campaign (default 25)\n"
    "  --calls N              calls per ordinary non-empty campaign (default 10)\n"
    "  --big-contacts N       contacts of campaign #2 of every provider (1 to 1000000;\n"
    "                         default 1003, Burki 10007)\n"
    "  --latency-ms N         add N ms to every API response (default 0)\n"
    "  --rate-limit P=RATE    per-key limit for provider P (altur, burki, truedy,\n"
    "                         koreai): N/s, N/min, or 0 for none; repeatable.\n"
    "                         Defaults: altur=12/s burki=20/s truedy=100/min koreai=0\n"
    "  --faults SPEC          inject faults with these probabilities, e.g.\n"
    "                         5xx=0.2,429=0.1,reset=0.05,truncate=0.05,malformed=0.02,slow=0.05\n"
    "                         (also overlap: a list page starts one record early)\n"
    "  --slow-ms N            delay of a 'slow' fault (default 2000)\n"
    "  --retry-after N        Retry-After seconds of a '429' fault, 0 to 86400\n"
    "                         (default 1; Truedy: its reset_at is N seconds ahead)\n"
    "  --request-log N        keep the last N API requests for GET /_sim/requests\n"
    "                         (default 100000, 0 = none)\n"
    "  --tls-cert FILE        serve HTTPS with this PEM certificate (chain) ...\n"
    "  --tls-key FILE         ... and this PEM private key (both or neither)\n"
    "  -v, --verbose          log every request to stderr\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Campaign #1 of every provider has no contacts; campaign #2 has more than ten\n"
    "pages of contacts at the largest page size.  Control endpoints (no auth, never\n"
    "faulted or counted): POST /_sim/advance?n=K, GET /_sim/stats,\n"
    "POST /_sim/reset-stats, GET /_sim/dump?provider=P,\n"
    "POST /_sim/faults?spec=SPEC&after=N&retry_after=S,\n"
    "POST /_sim/hold?match=TEXT&count=K, POST /_sim/release?match=TEXT,\n"
    "GET /_sim/requests?since=SEQ&limit=N,\n"
    "POST /_sim/override?match=TEXT&count=K&status=N&body_file=PATH&body=TEXT&\n"
    "  content_type=T&encoding=E&header=Name:Value&hang=1&redirect=URL,\n"
    "POST /_sim/override/clear?match=TEXT.  See campaignfs-sim(1).\n";

enum opt_id {
    OPT_LISTEN = 256,
    OPT_PORT_FILE,
    OPT_CONFIG_OUT,
    OPT_SEED,
    OPT_CAMPAIGNS,
    OPT_CONTACTS,
    OPT_CALLS,
    OPT_BIG_CONTACTS,
    OPT_LATENCY,
    OPT_RATE,
    OPT_FAULTS,
    OPT_SLOW,
    OPT_RETRY_AFTER,
    OPT_REQUEST_LOG,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"config-out", required_argument, NULL, OPT_CONFIG_OUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"campaigns", required_argument, NULL, OPT_CAMPAIGNS},
    {"contacts", required_argument, NULL, OPT_CONTACTS},
    {"calls", required_argument, NULL, OPT_CALLS},
    {"big-contacts", required_argument, NULL, OPT_BIG_CONTACTS},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"rate-limit", required_argument, NULL, OPT_RATE},
    {"faults", required_argument, NULL, OPT_FAULTS},
    {"slow-ms", required_argument, NULL, OPT_SLOW},
    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
    {"request-log", required_argument, NULL, OPT_REQUEST_LOG},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void bad_option(const char *opt, const char *msg)
{
    fprintf(stderr, "campaignfs-sim: --%s: %s\n", opt, msg);
    exit(EXIT_USAGE);
}

static unsigned long long number(const char *opt, const char *text, unsigned long long max)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (!*text || *text == '-' || *text == '+' || *end || errno || v > max) {
        char msg[160];
        snprintf(msg, sizeof(msg), "'%.64s' is not a whole number between 0 and %llu", text, max);
        bad_option(opt, msg);
    }
    return v;
}

/* A number from 1 to max; why names what a 0 would lack. */
static unsigned long long positive(const char *opt, const char *text, unsigned long long max,
                                   const char *why)
{
    unsigned long long v = number(opt, text, max);

    if (v < 1)
        bad_option(opt, why);
    return v;
}

static void bad_listen(const char *what, const char *text)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "'%.64s' %s", text, what);
    bad_option("listen", msg);
}

static void parse_listen(struct sim_options *o, const char *text)
{
    const char *colon = strrchr(text, ':');
    const char *host = text;
    unsigned char addr[sizeof(struct in6_addr)];
    size_t hlen;

    if (!colon || colon == text)
        bad_listen("is not ADDR:PORT", text);
    hlen = (size_t)(colon - text);
    if (text[0] == '[') {
        if (colon[-1] != ']')
            bad_listen("is not [IPV6]:PORT", text);
        host++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(o->host))
        bad_listen("has no usable address", text);
    memcpy(o->host, host, hlen);
    o->host[hlen] = '\0';
    if (strcmp(o->host, "localhost") == 0)
        strcpy(o->host, "127.0.0.1");
    if (inet_pton(AF_INET, o->host, &addr) != 1 && inet_pton(AF_INET6, o->host, &addr) != 1)
        bad_listen("is not an IP address and port (e.g. 127.0.0.1:8080, [::1]:8080)", text);
    o->port = (unsigned)number("listen", colon + 1, 65535);
}

static void defaults(struct sim_options *o)
{
    memset(o, 0, sizeof(*o));
    strcpy(o->host, "127.0.0.1");
    o->data.seed = 1;
    o->data.campaigns = 4;
    o->data.contacts = 25;
    o->data.calls = 10;
    o->slow_ms = 2000;
    o->retry_after = 1;
    o->request_log = REQLOG_DEFAULT;
    limiter_defaults(o->rate);
}

static void parse_value(struct sim_options *o, int id, const char *arg)
{
    char err[256];

    switch (id) {
    case OPT_LISTEN:
        parse_listen(o, arg);
        break;
    case OPT_PORT_FILE:
        o->port_file = arg;
        break;
    case OPT_CONFIG_OUT:
        o->config_out = arg;
        break;
    case OPT_SEED:
        o->data.seed = number("seed", arg, UINT64_MAX);
        break;
    case OPT_CAMPAIGNS:
        o->data.campaigns = positive("campaigns", arg, 10000, "at least 1 campaign is needed");
        break;
    case OPT_CONTACTS:
        o->data.contacts = number("contacts", arg, 1000000);
        break;
    case OPT_CALLS:
        o->data.calls = number("calls", arg, 1000000);
        break;
    case OPT_BIG_CONTACTS:
        o->data.big =
            positive("big-contacts", arg, 1000000, "campaign #2 needs at least 1 contact");
        break;
    case OPT_LATENCY:
        o->latency_ms = (long)number("latency-ms", arg, 600000);
        break;
    case OPT_SLOW:
        o->slow_ms = (long)number("slow-ms", arg, 600000);
        break;
    case OPT_RETRY_AFTER:
        o->retry_after = (int)number("retry-after", arg, SIM_RETRY_AFTER_MAX);
        break;
    case OPT_REQUEST_LOG:
        o->request_log = (size_t)number("request-log", arg, 10000000);
        break;
    case OPT_TLS_CERT:
        o->tls_cert = arg;
        break;
    case OPT_TLS_KEY:
        o->tls_key = arg;
        break;
    case OPT_RATE:
        if (limiter_parse_override(arg, o->rate, err, sizeof(err)) < 0)
            bad_option("rate-limit", err);
        break;
    case OPT_FAULTS:
        if (fault_spec_parse(arg, &o->faults, err, sizeof(err)) < 0)
            bad_option("faults", err);
        break;
    default:
        break;
    }
}

static void parse_args(int argc, char **argv, struct sim_options *o)
{
    int c;

    defaults(o);
    while ((c = getopt_long(argc, argv, "vhV", long_opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (c == 'V') {
            printf("campaignfs-sim %s\n", CAMPAIGNFS_VERSION);
            exit(0);
        }
        if (c == '?') {
            fputs("Try 'campaignfs-sim --help'.\n", stderr);
            exit(EXIT_USAGE);
        }
        if (c == 'v')
            o->verbose = true;
        else
            parse_value(o, c, optarg);
    }
    if (optind < argc) {
        fprintf(stderr, "campaignfs-sim: unexpected argument '%s'\n", argv[optind]);
        exit(EXIT_USAGE);
    }
    if (!o->tls_cert != !o->tls_key)
        bad_option(o->tls_cert ? "tls-key" : "tls-cert",
                   "HTTPS needs both --tls-cert and --tls-key");
}

/* A whole PEM file as a string; exits 2 naming the option if unreadable. */
static char *read_pem(const char *opt, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL, msg[400];
    size_t len = 0;
    long size = -1;

    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size >= 0 && size <= (1L << 20) && fseek(f, 0, SEEK_SET) == 0)
        text = calloc(1, (size_t)size + 1);
    if (text)
        len = fread(text, 1, (size_t)size, f);
    if (!text || len != (size_t)size || size == 0 || memchr(text, '\0', len)) {
        snprintf(msg, sizeof(msg), "cannot read '%.200s' (%s)", path,
                 !f                  ? strerror(errno)
                 : size > (1L << 20) ? "over 1 MiB"
                                     : "empty or unreadable");
        bad_option(opt, msg);
    }
    fclose(f);
    return text;
}

/* Reads --tls-cert/--tls-key; exits 1 if this libmicrohttpd has no TLS. */
static void load_tls(struct sim_options *o)
{
    if (!o->tls_cert)
        return;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        fprintf(stderr, "campaignfs-sim: --tls-cert: this libmicrohttpd was built without TLS "
                        "(install a libmicrohttpd with GnuTLS, as Debian's)\n");
        exit(1);
    }
    o->tls_cert_pem = read_pem("tls-cert", o->tls_cert);
    o->tls_key_pem = read_pem("tls-key", o->tls_key);
}

static int write_outputs(const struct sim *s)
{
    char line[32], *config;

    if (s->opt.port_file) {
        snprintf(line, sizeof(line), "%u\n", atomic_load(&s->port));
        if (output_write_atomic(s->opt.port_file, line) < 0) {
            fprintf(stderr, "campaignfs-sim: cannot write --port-file %s: %s\n", s->opt.port_file,
                    strerror(errno));
            return -1;
        }
    }
    if (!s->opt.config_out)
        return 0;
    config = output_config(s);
    if (!config || output_write_atomic(s->opt.config_out, config) < 0) {
        fprintf(stderr, "campaignfs-sim: cannot write --config-out %s: %s\n", s->opt.config_out,
                strerror(errno));
        free(config);
        return -1;
    }
    free(config);
    return 0;
}

int main(int argc, char **argv)
{
    static struct sim sim;
    sigset_t stop;
    char at[200];
    int sig = 0, rc = 0;

    parse_args(argc, argv, &sim.opt);
    load_tls(&sim.opt);
    log_init("campaignfs-sim", sim.opt.verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN, false);
    /* Block the stop signals in every thread; main waits for them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sim_start(&sim) < 0) {
        free(sim.opt.tls_cert_pem);
        free(sim.opt.tls_key_pem);
        return 1;
    }
    if (write_outputs(&sim) < 0) {
        rc = 1;
    } else {
        output_authority(&sim, at, sizeof(at));
        printf("campaignfs-sim: listening on %s://%s\n", sim.opt.tls_cert ? "https" : "http", at);
        fflush(stdout);
        sigwait(&stop, &sig);
    }
    sim_stop(&sim);
    free(sim.opt.tls_cert_pem);
    free(sim.opt.tls_key_pem);
    return rc;
}
