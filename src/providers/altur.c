/**
 * @file altur.c
 * Altur (https://api.altur.io/api/v1.0): campaigns by cursor, contacts and
 * calls by 0-based page index, `Authorization: api-key KEY`, 12 req/s.
 * total_count is only meaningful on the first page.
 */
#include "../provider.h"

const struct provider provider_altur = {
    .name = "altur",
    .title = "Altur",
    .default_url = "https://api.altur.io/api/v1.0",
    .auth = AUTH_API_KEY,
    .default_rate = 12,
    .campaigns =
        {
            .path = "/campaigns",
            .style = PAGE_CURSOR,
            .page_param = "cursor",
            .size_param = "pageSize",
            .max_page_size = 100,
            .items = "campaigns",
            .has_more = {"pagination.has_next", "pagination.has_more"},
            .next_cursor = "pagination.next_cursor",
            .total = "total_count",
            .ids = {"id"},
            .times = {"updated_at", "created_at"},
            .final = {.status = "status", .statuses = {"finished"}},
            .title = "name",
        },
    .contacts =
        {
            .path = "/campaigns/{campaign}/contacts",
            .style = PAGE_INDEX0,
            .page_param = "pageIndex",
            .max_pages = 25001, /* pageIndex 0..25000 */
            .size_param = "pageSize",
            .max_page_size = 100,
            .items = "contacts",
            .has_more = {"pagination.has_next", "pagination.has_more"},
            .total = "total_count",
            .ids = {"id", "f_id"},
            .times = {"last_call_at", "updated_at", "created_at"},
            /* the status query's enum (phone and WhatsApp campaigns) */
            .by_status =
                {
                    .field = "status",
                    .param = "status",
                    .values = {"queue", "sending", "sent", "delivered", "voicemail", "read",
                               "failed", "retrying", "converted", "answered", "accepted",
                               "rejected"},
                },
        },
    .calls =
        {
            .path = "/campaigns/{campaign}/calls",
            .style = PAGE_INDEX0,
            .page_param = "pageIndex",
            .max_pages = 25001, /* pageIndex 0..25000 */
            .size_param = "pageSize",
            .max_page_size = 100,
            .items = "calls",
            .has_more = {"pagination.has_next", "pagination.has_more"},
            .total = "total_count",
            .ids = {"id"},
            .times = {"ended_at", "started_at", "created_at"},
            .final = {.status = "status", .statuses = {"ended", "failed", "busy", "no-answer"}},
        },
    .campaign =
        {
            .path = "/campaigns/{campaign}",
            .unwrap = "campaign",
            .times = {"updated_at", "created_at"},
        },
    .errors = {"message", "detail", "non_field_errors.0"},
};
