/**
 * @file test_statusview.c
 * The person's view of MOUNT/.campaignfs/status: bars, percentages, ETAs
 * from the rate limit, units, escaping, unknown totals, missing fields,
 * fitting to the width, and the --status / --watch entry point on a plain
 * directory holding .campaignfs/status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "statusview.h"

static const char fixture[] =
    "{\"version\": \"0.1.0\", \"pid\": 1234, \"mounted_at\": \"2026-12-03T23:00:00Z\",\n"
    " \"uptime_seconds\": 192.5, \"ttl\": 60, \"max_stale\": 3600, \"future_field\": [1, 2],\n"
    " \"accounts\": [\n"
    "  {\"name\": \"altur\", \"provider\": \"altur\", \"url\": "
    "\"http://127.0.0.1:41234/api/v1.0\",\n"
    "   \"rate_limit_per_second\": 12, \"concurrency\": 8, \"requests\": 12, \"bytes\": 123456,\n"
    "   \"retries\": 1, \"rate_limited\": 3, \"rate_wait_seconds\": 0.5, \"max_in_flight\": 5,\n"
    "   \"errors\": {\"server\": {\"count\": 2, \"last_message\": \"[altur] GET "
    "http://127.0.0.1:41234/api/v1.0/campaigns: HTTP 503\", \"last_at\": "
    "\"2026-12-03T23:00:05Z\"},\n"
    "              \"network\": {\"count\": 1, \"last_message\": \"older\", \"last_at\": "
    "\"2026-12-03T23:00:01Z\"}},\n"
    "   \"cached\": {\"listings\": 5, \"bytes\": 34567, \"stale\": 1},\n"
    "   \"fetches\": [\n"
    "    {\"path\": \"altur/campaigns/12/contacts\", \"pages_done\": 3, \"pages_total\": 10,\n"
    "     \"records\": 300, \"records_total\": 1000, \"bytes\": 45678,\n"
    "     \"started_at\": \"2026-12-03T23:00:01Z\", \"seconds\": 1.5}]},\n"
    "  {\"name\": \"burki-eu\", \"provider\": \"burki\", \"url\": \"https://burki.example/api\",\n"
    "   \"rate_limit_per_second\": 0.5, \"concurrency\": 2, \"requests\": 4000, \"bytes\": "
    "5242880,\n"
    "   \"retries\": 0, \"rate_limited\": 0, \"rate_wait_seconds\": 75, \"max_in_flight\": 2,\n"
    "   \"errors\": {}, \"cached\": {\"listings\": 0, \"bytes\": 0, \"stale\": 0},\n"
    "   \"fetches\": [\n"
    "    {\"path\": \"burki-eu/campaigns/7/calls\", \"pages_done\": 10, \"pages_total\": 100,\n"
    "     \"records\": 1000, \"records_total\": -1, \"bytes\": 2048, \"started_at\": "
    "\"2026-12-03T23:00:02Z\",\n"
    "     \"seconds\": 2}]}]}\n";

/* Renders json at width into a malloc'd string (asserting success). */
static char *render(const char *json, int width)
{
    char *text = NULL, err[256] = "";
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    assert_int_equal(statusview_render(json, strlen(json), width, out, err, sizeof(err)), 0);
    fclose(out);
    return text;
}

/* The line of text that contains needle, into buf. */
static const char *line_with(const char *text, const char *needle, char *buf, size_t len)
{
    const char *at = strstr(text, needle), *start, *end;

    if (!at)
        return NULL;
    start = at;
    while (start > text && start[-1] != '\n')
        start--;
    end = strchr(at, '\n');
    snprintf(buf, len, "%.*s", (int)(end ? end - start : (ptrdiff_t)strlen(start)), start);
    return buf;
}

static void test_render_fixture(void **state)
{
    (void)state;
    char *text = render(fixture, 200), buf[512];

    assert_non_null(strstr(text, "campaignfs 0.1.0  pid 1234  up 3m12s"));
    /* account one: units, counters, cache, errors, the newest last error */
    assert_non_null(strstr(text, "altur  [altur]  limit 12/s, 8 at once (peak 5)"));
    assert_non_null(strstr(text, "requests 12  received 120.6 KiB  retries 1  429s 3"));
    assert_non_null(strstr(text, "rate-limit wait 0.5s"));
    assert_non_null(
        strstr(text, "cached 5 listings, 33.8 KiB, 1 stale  errors: server 2, network 1"));
    assert_non_null(strstr(text, "\n  last error (server, 2026-12-03T23:00:05Z):\n"
                                 "    [altur] GET "
                                 "http://127.0.0.1:41234/api/v1.0/campaigns: HTTP 503\n"));
    assert_null(strstr(text, "older"));
    /* the fetch: path verbatim, bar, percent, rate; 7 pages at the observed
     * 2 pages/s (under the 12/s limit): 3.5 s -> 4s */
    assert_non_null(strstr(text, "\n  fetching altur/campaigns/12/contacts\n"));
    assert_non_null(line_with(text, "[######--------------]  30%", buf, sizeof(buf)));
    assert_non_null(
        strstr(buf, "30%  ETA 4s  200 rec/s  3/10 pages  300/1000 records  44.6 KiB in 1.5s"));
    /* account two: 100/min style limits, MiB, a wait of minutes, no errors */
    assert_non_null(strstr(text, "burki-eu  [burki]  limit 30/min, 2 at once"));
    assert_non_null(strstr(text, "received 5.0 MiB"));
    assert_non_null(strstr(text, "rate-limit wait 1m15s"));
    assert_non_null(strstr(text, "errors: none"));
    /* 90 pages left; observed 5 pages/s, but the limit is 0.5/s: 180 s */
    assert_non_null(strstr(text, "fetching burki-eu/campaigns/7/calls"));
    assert_non_null(line_with(text, "[##------------------]  10%", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "10%  ETA 3m00s  500 rec/s  10/100 pages  1000/? records"));
    free(text);
}

static void test_rate_formats(void **state)
{
    (void)state;
    char *text = render("{\"accounts\": [{\"name\": \"a\", \"rate_limit_per_second\": 1.66667},"
                        "{\"name\": \"b\", \"rate_limit_per_second\": 0}]}",
                        120);

    assert_non_null(strstr(text, "limit 100/min"));
    assert_non_null(strstr(text, "b  [?]  no rate limit, ? at once"));
    free(text);
}

static void test_unknown_totals(void **state)
{
    (void)state;
    char *text = render("{\"version\": \"0.1.0\", \"accounts\": [{\"name\": \"t\", "
                        "\"rate_limit_per_second\": 5, \"fetches\": [{\"path\": \"t/campaigns\", "
                        "\"pages_done\": 4, \"pages_total\": -1, \"records\": 400, "
                        "\"records_total\": -1, \"bytes\": 10, \"seconds\": 2}]}]}",
                        160);
    char buf[512];

    assert_non_null(line_with(text, "(total unknown)", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "(total unknown)  ETA ?  200 rec/s  4/? pages  400/? records"));
    assert_null(strchr(buf, '%'));
    assert_null(strchr(buf, '['));
    free(text);

    /* no pages yet: nothing observed, no ETA even with a limit */
    text = render("{\"accounts\": [{\"rate_limit_per_second\": 5, \"fetches\": [{\"path\": "
                  "\"x\", \"pages_done\": 0, \"pages_total\": 10, \"records\": 0, "
                  "\"records_total\": -1, \"seconds\": 0}]}]}",
                  160);
    assert_non_null(line_with(text, "[--------------------]   0%", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "0%  ETA ?  ? rec/s"));
    free(text);

    /* only the records total known: pages left from records per page */
    text = render("{\"accounts\": [{\"rate_limit_per_second\": 1, \"fetches\": [{\"path\": "
                  "\"y\", \"pages_done\": 2, \"pages_total\": -1, \"records\": 200, "
                  "\"records_total\": 1000, \"seconds\": 1}]}]}",
                  160);
    assert_non_null(line_with(text, "  20%", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "ETA 8s")); /* 8 pages left at the 1/s limit */
    free(text);
}

static void test_control_characters(void **state)
{
    (void)state;
    char *text = render("{\"accounts\": [{\"name\": \"e\\u001b[2Jvil\", \"errors\": {\"server\": "
                        "{\"count\": 1, \"last_message\": \"bad\\u001b]0;title\\u0007 "
                        "\\r\\n\\u009b2J \\u00e9t\\u00e9\", \"last_at\": \"x\"}}, \"fetches\": "
                        "[{\"path\": \"p\\tq\"}]}]}",
                        200);

    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\a'));
    assert_null(strchr(text, '\r'));
    assert_null(strchr(text, '\t'));
    assert_null(strstr(text, "\xc2\x9b"));
    assert_non_null(strstr(text, "e\\x1b[2Jvil"));
    assert_non_null(strstr(text, "bad\\x1b]0;title\\x07 \\x0d\\x0a\\u009b2J \xc3\xa9t\xc3\xa9"));
    assert_non_null(strstr(text, "fetching p\\x09q"));
    free(text);
}

static void test_not_status(void **state)
{
    (void)state;
    const char *bad[] = {"",       "not json",   "{\"accounts\": [",
                         "[1, 2]", "{\"a\": 1}", "{\"pid\": 1} trailing"};
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);

        err[0] = '\0';
        assert_int_equal(statusview_render(bad[i], strlen(bad[i]), 80, out, err, sizeof(err)), -1);
        fclose(out);
        assert_int_equal(len, 0); /* nothing drawn */
        assert_true(strlen(err) > 0);
        assert_null(strchr(err, '\n'));
        free(text);
    }
    statusview_render("nope", 4, 80, stdout, err, sizeof(err));
    assert_non_null(strstr(err, "not JSON"));
    statusview_render("{}", 2, 80, stdout, err, sizeof(err));
    assert_non_null(strstr(err, "not a campaignfs status"));
}

static void test_missing_fields(void **state)
{
    (void)state;
    char *text = render("{\"version\": 1}", 80);

    assert_non_null(strstr(text, "campaignfs ?  pid ?  up ?"));
    assert_non_null(strstr(text, "no accounts"));
    free(text);

    text = render("{\"accounts\": [{}, 7, {\"errors\": {\"server\": 3}, \"cached\": [], "
                  "\"fetches\": [{}, null, {\"pages_done\": \"x\"}]}, {\"fetches\": 5}]}",
                  80);
    assert_non_null(strstr(text, "?  [?]  limit ?, ? at once (peak ?)"));
    assert_non_null(strstr(text, "requests ?  received ?  retries ?  429s ?"));
    assert_non_null(strstr(text, "errors: server ?"));
    assert_non_null(strstr(text, "fetching ?"));
    assert_non_null(strstr(text, "(total unknown)  ETA ?  ? rec/s  ? pages  ? records"));
    free(text);
}

static void test_width(void **state)
{
    (void)state;
    const int widths[] = {20, 40, 80, 132};

    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        char *text = render(fixture, widths[w]);
        int longest = 0;

        for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
            if ((int)strlen(l) > longest)
                longest = (int)strlen(l);
        assert_true(longest <= widths[w]);
        free(text);
    }

    /* the last error message wraps rather than being cut */
    char *wrapped = render(fixture, 40);
    assert_non_null(strstr(wrapped, "\n    [altur] GET http://127.0.0.1:41234/a\n"
                                    "    pi/v1.0/campaigns: HTTP 503\n"));
    free(wrapped);

    /* at a space past the middle; three lines at most, the last one cut */
    wrapped = render("{\"accounts\": [{\"errors\": {\"timeout\": {\"count\": 1, "
                     "\"last_message\": \"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj "
                     "kkkk llll mmmm nnnn\"}}}]}",
                     20);
    assert_non_null(strstr(wrapped, "\n    aaaa bbbb cccc \n    dddd eeee ffff \n"
                                    "    gggg hhhh iiii >\n"));
    free(wrapped);

    /* cut lines end in '>'; the cut counts code points, not bytes */
    char *text = render("{\"version\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\", "
                        "\"accounts\": []}",
                        20);
    assert_non_null(
        strstr(text, "campaignfs \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9  >\n"));
    free(text);
}

/* ---- the entry point on a directory holding .campaignfs/status ---- */

static char tmpdir[64];

static int make_mount(void **state)
{
    char path[128];
    FILE *f;

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_statusview.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/.campaignfs", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(fixture, f);
    fclose(f);
    return 0;
}

static int remove_mount(void **state)
{
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/.campaignfs", tmpdir);
    rmdir(path);
    rmdir(tmpdir);
    return 0;
}

/* Runs statusview_run(dir, ...) and returns what it wrote to out / errout. */
static int run(const char *dir, bool watch, int frames, char **out_text, char **err_text)
{
    size_t olen = 0, elen = 0;
    FILE *out = open_memstream(out_text, &olen), *errout = open_memstream(err_text, &elen);
    int rc = statusview_run(dir, watch, frames, out, errout);

    fclose(out);
    fclose(errout);
    return rc;
}

static void test_main_reads_status(void **state)
{
    (void)state;
    char *out, *err;

    assert_int_equal(run(tmpdir, false, 0, &out, &err), 0);
    assert_non_null(strstr(out, "campaignfs 0.1.0  pid 1234"));
    assert_non_null(strstr(out, "fetching altur/campaigns/12/contacts"));
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_int_equal(statusview_main(tmpdir, false), 0); /* onto stdout */
}

static void test_main_not_mounted(void **state)
{
    (void)state;
    char *out, *err, dir[128], expect[192];

    snprintf(dir, sizeof(dir), "%s/.campaignfs", tmpdir); /* a directory with no status */
    assert_int_equal(run(dir, false, 0, &out, &err), 1);
    snprintf(expect, sizeof(expect), "%s/.campaignfs/status", dir);
    assert_non_null(strstr(err, expect));
    assert_non_null(strstr(err, "is campaignfs mounted there?"));
    assert_string_equal(out, "");
    free(out);
    free(err);

    assert_int_equal(run("/nonexistent/campaignfs-mount", true, 1, &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/campaignfs-mount: no such directory"));
    free(out);
    free(err);
    assert_int_equal(statusview_main("/nonexistent/campaignfs-mount", false), 1);
}

static void test_main_not_json(void **state)
{
    (void)state;
    char path[128], *out, *err;
    FILE *f;

    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    f = fopen(path, "w");
    fputs("<html>", f);
    fclose(f);
    assert_int_equal(run(tmpdir, true, 2, &out, &err), 1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not JSON"));
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void test_watch_frames(void **state)
{
    (void)state;
    char *out, *err, *second;

    assert_int_equal(run(tmpdir, true, 2, &out, &err), 0);
    /* not a terminal: each frame followed by a blank line, no escapes */
    assert_null(strchr(out, '\x1b'));
    second = strstr(out, "\n\ncampaignfs 0.1.0");
    assert_non_null(second);
    assert_ptr_equal(strstr(out, "campaignfs 0.1.0"), out);
    assert_null(strstr(second + 2, "\n\ncampaignfs 0.1.0"));
    assert_int_equal(strcmp(out + strlen(out) - 2, "\n\n"), 0);
    free(out);
    free(err);
}

/* Writes text to path atomically (a new file renamed over it). */
static void replace_file(const char *path, const char *text)
{
    char tmp[160];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

struct later_write {
    const char *path, *text;
    int delay_ms;
};

static void *write_later(void *arg)
{
    const struct later_write *w = arg;
    struct timespec ts = {w->delay_ms / 1000, (long)(w->delay_ms % 1000) * 1000000};
    FILE *f;

    nanosleep(&ts, NULL);
    if (!strstr(w->path, "fifo")) {
        replace_file(w->path, w->text);
        return NULL;
    }
    f = fopen(w->path, "w"); /* blocks until the reader opens the FIFO */
    if (f) {
        fputs(w->text, f);
        fclose(f);
    }
    return NULL;
}

/* A status that stops being readable after the first frame: the watch goes
 * on, and the frame says what is wrong. */
static void test_watch_later_failure(void **state)
{
    (void)state;
    char path[128], *out, *err;
    pthread_t t;
    struct later_write w = {path, "<html>", 300};

    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    assert_int_equal(pthread_create(&t, NULL, write_later, &w), 0);
    assert_int_equal(run(tmpdir, true, 2, &out, &err), 0);
    pthread_join(t, NULL);
    assert_non_null(strstr(out, "fetching altur/campaigns/12/contacts"));
    assert_non_null(strstr(out, "\n\ncampaignfs: cannot show "));
    assert_non_null(strstr(out, "not JSON"));
    assert_non_null(strstr(out, "(trying again every second)"));
    free(out);
    free(err);
    replace_file(path, fixture);
}

/* Read to EOF, whatever st_size says: a FIFO (size 0), and a document
 * larger than the first read buffer. */
static void test_read_to_eof(void **state)
{
    static const char big_head[] = "{\"accounts\": [{\"name\": \"big\", \"url\": \"";
    (void)state;
    char path[128], fifo[128], *out, *err, *big;
    size_t n = 100000;
    pthread_t t;
    struct later_write w = {fifo, fixture, 0};

    snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    assert_int_equal(mkdir(fifo, 0755), 0);
    snprintf(fifo, sizeof(fifo), "%s/fifo/.campaignfs", tmpdir);
    assert_int_equal(mkdir(fifo, 0755), 0);
    snprintf(fifo, sizeof(fifo), "%s/fifo/.campaignfs/status", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(pthread_create(&t, NULL, write_later, &w), 0);
    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    assert_int_equal(run(path, false, 0, &out, &err), 0);
    pthread_join(t, NULL);
    assert_non_null(strstr(out, "fetching burki-eu/campaigns/7/calls"));
    free(out);
    free(err);
    unlink(fifo);
    snprintf(fifo, sizeof(fifo), "%s/fifo/.campaignfs", tmpdir);
    rmdir(fifo);
    rmdir(path);

    big = malloc(n + 200);
    assert_non_null(big);
    snprintf(path, sizeof(path), "%s/.campaignfs/status", tmpdir);
    n = strlen(big_head);
    memcpy(big, big_head, n);
    memset(big + n, 'u', 90000);
    strcpy(big + n + 90000, "\"}], \"version\": \"9.9\"}");
    replace_file(path, big);
    assert_int_equal(run(tmpdir, false, 0, &out, &err), 0);
    assert_non_null(strstr(out, "campaignfs 9.9"));
    assert_non_null(strstr(out, "big  [?]"));
    free(out);
    free(err);
    free(big);
    replace_file(path, fixture);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SIGINT ends --watch at once (mid-sleep) with exit status 0. */
static void test_watch_signal(void **state)
{
    (void)state;
    int fds[2], status;
    char buf[8192] = "";
    size_t got = 0;
    pid_t pid;
    double t0;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *out = fdopen(fds[1], "w");

        close(fds[0]);
        _exit(statusview_run(tmpdir, true, 0, out, stderr));
    }
    close(fds[1]);
    while (!strstr(buf, "\n\n")) { /* the first frame */
        ssize_t r = read(fds[0], buf + got, sizeof(buf) - 1 - got);

        assert_true(r > 0);
        got += (size_t)r;
        buf[got] = '\0';
    }
    t0 = now();
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(now() - t0 < 0.9);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_fixture),
        cmocka_unit_test(test_rate_formats),
        cmocka_unit_test(test_unknown_totals),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_not_status),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_width),
        cmocka_unit_test_setup_teardown(test_main_reads_status, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_main_not_mounted, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_main_not_json, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_watch_frames, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_watch_signal, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_watch_later_failure, make_mount, remove_mount),
        cmocka_unit_test_setup_teardown(test_read_to_eof, make_mount, remove_mount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
