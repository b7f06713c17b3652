/**
 * @file check.h
 * campaignfs --check: one cheap request per account (the first page of its
 * campaign list), all at once, and a line per account saying whether it
 * works and, if not, why and what to do.
 */
#ifndef CAMPAIGNFS_CHECK_H
#define CAMPAIGNFS_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct account;

/* Checks the accounts (opened) with at most timeout seconds a request,
 * writes one line per account to out, in order; returns the exit status:
 * 0 when every account answered, 1 otherwise. */
int check_accounts(struct account *accounts, size_t n, long timeout, size_t max_body, FILE *out);

#endif
