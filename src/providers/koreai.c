/**
 * @file koreai.c
 * Kore.ai Contact Center AI campaigns (https://{host}): every request
 * carries `auth: <HS256 JWT>`, `iid: <stream id>`, `accountId: <id>`; lists
 * are POSTs with the page in the JSON body.  Contacts have no id: they are
 * named by phoneNumber[-uniqueId] and have no timestamps.  A body with
 * "status": "failure" is an error whatever the HTTP code.
 */
#include "../provider.h"

#define KOREAI_BASE "/campaign/api/v2/public/{stream}/campaign"

const struct provider provider_koreai = {
    .name = "koreai",
    .title = "Kore.ai",
    .default_url = "https://platform.kore.ai",
    .auth = AUTH_KOREAI,
    .default_rate = 0,
    .campaigns =
        {
            .path = KOREAI_BASE "/getAllCampaignDetails",
            .query_extra = "accountId={account_id}",
            .post = true,
            .body_extra = "\"type\": \"voice\"",
            .style = PAGE_BODY_SKIP,
            .page_param = "skip",
            .size_param = "limit",
            .max_page_size = 100,
            .items = "data.results",
            .has_more = {"data.hasMore"},
            .total = "data.totalResults",
            .total_pages = "data.totalPages",
            .ids = {"_id", "id"},
            .times = {"updatedAt", "createdAt"},
            .title = "name",
        },
    .contacts =
        {
            .path = KOREAI_BASE "/{campaign}/status",
            .query_extra = "view=contacts&accountId={account_id}",
            .post = true,
            .style = PAGE_BODY_NUMBER1,
            .page_param = "page",
            .size_param = "limit",
            .max_page_size = 100,
            .items = "data.results",
            .total = "data.totalResults",
            .total_pages = "data.totalPages",
            .naming = NAME_BY_PHONE_UNIQUE,
            /* no filter on the server; "" (in progress) is no status */
            .by_status =
                {
                    .field = "dialerOutcome",
                    .values = {"completed"},
                    .open = true,
                },
        },
    .campaign =
        {
            .path = KOREAI_BASE "/{campaign}",
            .query_extra = "accountId={account_id}",
            .unwrap = "data",
            .times = {"updatedAt", "createdAt"},
        },
    .errors = {"message", "error.message", "errors.0.msg"},
    .failure_status = "failure",
};
