/**
 * @file fetch.h
 * Turning a provider collection or record endpoint into a listing: walks
 * every page through http_fetch() and publishes nothing until the last page
 * arrived.  A failure returns -1 and leaves no partial listing behind.
 */
#ifndef CAMPAIGNFS_FETCH_H
#define CAMPAIGNFS_FETCH_H

#include "http.h"
#include "listing.h"

struct account;

/* All records of coll (for campaign `campaign`, may be NULL for the
 * campaign list), as entries of the given type. */
int fetch_collection(struct account *a, const struct collection *coll, const char *campaign,
                     enum entry_type type, struct listing **out, struct fetch_error *err);

/* One record: a listing with a single ENTRY_FILE named `name`. */
int fetch_record(struct account *a, const struct record_endpoint *ep, const char *campaign,
                 const char *id, const char *name, struct listing **out, struct fetch_error *err);

#endif
