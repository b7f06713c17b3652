/**
 * @file output.c
 * Port file and --config-out.
 */
#include "output.h"

#include "rate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void output_authority(const struct sim *s, char *buf, size_t len)
{
    const char *host = s->opt.host;
    bool v6 = strchr(host, ':') != NULL;

    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", atomic_load(&s->port));
}

char *output_config(const struct sim *s)
{
    const struct creds *c = &s->creds;
    char at[200], rate[SIM_NPROV][32], *text = NULL;
    const char *scheme = s->opt.tls_cert ? "https" : "http";

    output_authority(s, at, sizeof(at));
    for (int p = 0; p < SIM_NPROV; p++)
        rate_format(s->opt.rate[p], rate[p], sizeof(rate[p]));
    if (asprintf(&text,
                 "# campaignfs configuration for campaignfs-sim on %s (seed %llu)\n"
                 "[altur]\nprovider = altur\nurl = %s://%s/api/v1.0\napi_key = %s\n"
                 "rate_limit = %s\n\n"
                 "[burki]\nprovider = burki\nurl = %s://%s\napi_key = %s\nrate_limit = %s\n\n"
                 "[truedy]\nprovider = truedy\nurl = %s://%s/api/public/v1\napi_key = %s\n"
                 "rate_limit = %s\n\n"
                 "[koreai]\nprovider = koreai\nurl = %s://%s\nstream_id = %s\n"
                 "account_id = %s\nclient_id = %s\nclient_secret = %s\nrate_limit = %s\n",
                 at, (unsigned long long)s->opt.data.seed, scheme, at, c->altur_key,
                 rate[SIM_ALTUR], scheme, at, c->burki_key, rate[SIM_BURKI], scheme, at,
                 c->truedy_key, rate[SIM_TRUEDY], scheme, at, c->koreai_stream, c->koreai_account,
                 c->koreai_client_id, c->koreai_secret, rate[SIM_KOREAI]) < 0)
        return NULL;
    return text;
}

int output_write_atomic(const char *path, const char *text)
{
    char *tmp = NULL;
    FILE *f;
    int fd, err = 0;

    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return -1;
    /* owner-only: the config holds the simulator's credentials */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        err = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        errno = err;
        return -1;
    }
    if (fputs(text, f) == EOF)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    free(tmp);
    errno = err;
    return err ? -1 : 0;
}
