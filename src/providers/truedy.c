/**
 * @file truedy.c
 * Truedy (https://api.truedy.ai/api/public/v1): batch calls are its
 * campaigns; offset/limit (at most 100); every body is {data, meta,
 * pagination}; 100 req/min.  There is no list of a batch's calls: its
 * contacts name them (call_id) and each is fetched with GET /calls/{id}.
 * Contacts come in two shapes (contact_id/first_name/phone_number and the
 * older id/name/phone): both are accepted.
 */
#include "../provider.h"

#define TRUEDY_PAGED(list_path)                                                                    \
    .path = list_path, .style = PAGE_OFFSET, .page_param = "offset", .size_param = "limit",        \
    .max_page_size = 100, .items = "data", .has_more = {"pagination.has_more"},                    \
    .total = "pagination.total"

const struct provider provider_truedy = {
    .name = "truedy",
    .title = "Truedy",
    .default_url = "https://api.truedy.ai/api/public/v1",
    .auth = AUTH_BEARER,
    .default_rate = 100.0 / 60.0,
    .campaigns =
        {
            TRUEDY_PAGED("/batch-calls"),
            .ids = {"id"},
            .times = {"updated_at", "created_at"},
            .title = "name",
        },
    .contacts =
        {
            TRUEDY_PAGED("/batch-calls/{campaign}/contacts"),
            .ids = {"contact_id", "id"},
            .times = {"called_at", "updated_at", "created_at"},
            .link = "call_id",
            /* a status filter whose values the docs show only by example */
            .by_status =
                {
                    .field = "call_status",
                    .param = "status",
                    .values = {"pending", "completed"},
                    .open = true,
                },
        },
    .campaign =
        {
            .path = "/batch-calls/{campaign}",
            .unwrap = "data",
            .times = {"updated_at", "created_at"},
        },
    .call =
        {
            .path = "/calls/{id}",
            .unwrap = "data",
            .times = {"ended_at", "started_at", "created_at"},
            /* a completed call's transcript may still be null right after it */
            .final = {.status = "status",
                      .statuses = {"completed", "failed", "busy", "no_answer", "no-answer",
                                   "voicemail", "cancelled", "canceled", "rejected", "ended"},
                      .awaits = "transcript",
                      .awaits_status = "completed"},
        },
    .errors = {"error.message", "message", "detail"},
    .reset_at = "error.details.reset_at",
};
