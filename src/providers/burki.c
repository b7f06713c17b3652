/**
 * @file burki.c
 * Burki (https://api.burki.dev, paths under /api/v1): 1-based page/per_page
 * (at most 1000), `Authorization: Bearer KEY`, 429 with Retry-After.  The
 * documented campaign list path ends in '/'.
 */
#include "../provider.h"

#define BURKI_PAGED(list_path, array)                                                              \
    .path = list_path, .style = PAGE_NUMBER1, .page_param = "page", .size_param = "per_page",      \
    .max_page_size = 1000, .items = array, .has_more = {"pagination.has_next"},                    \
    .total = "pagination.total_items", .total_pages = "pagination.total_pages"

const struct provider provider_burki = {
    .name = "burki",
    .title = "Burki",
    .default_url = "https://api.burki.dev",
    .auth = AUTH_BEARER,
    .default_rate = 0,
    .campaigns =
        {
            BURKI_PAGED("/api/v1/campaigns/", "campaigns"),
            .ids = {"id"},
            .times = {"completed_at", "started_at", "updated_at", "created_at"},
            .final = {.status = "status", .statuses = {"completed", "cancelled", "failed"}},
            .title = "name",
        },
    .contacts =
        {
            BURKI_PAGED("/api/v1/campaigns/{campaign}/contacts", "contacts"),
            .ids = {"id"},
            .times = {"last_attempt_at", "updated_at", "created_at"},
            .by_status =
                {
                    .field = "status",
                    .param = "status",
                    .values = {"pending", "in_progress", "completed", "failed", "skipped",
                               "no_answer", "busy", "voicemail"},
                },
        },
    .calls =
        {
            BURKI_PAGED("/api/v1/campaigns/{campaign}/executions", "executions"),
            .ids = {"execution_id", "id"},
            .times = {"executed_at", "updated_at", "created_at"},
            .final = {.status = "status",
                      .statuses = {"completed", "failed", "no_answer", "busy", "voicemail",
                                   "skipped"}},
        },
    .campaign =
        {
            .path = "/api/v1/campaigns/{campaign}",
            .unwrap = "",
            .times = {"completed_at", "started_at", "updated_at", "created_at"},
        },
    .errors = {"detail.0.msg", "detail", "message"},
};
