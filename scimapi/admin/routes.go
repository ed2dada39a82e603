package admin

import "net/http"

// routes is every admin API route with its access rule and documentation.
func (h *handler) routes() []Route {
	pg := []param{pOffset, pLimit}
	return []Route{
		{"GET", "/openapi.json", public, h.openAPI, opDoc{tag: "meta", summary: "This OpenAPI 3 document",
			responses: map[int]string{200: "Any"}}},

		{"GET", "/accounts", anyAdmin, h.listAccounts, opDoc{tag: "accounts", summary: "List accounts (an account's admin sees its own)",
			responses: map[int]string{200: "AccountList"}}},
		{"POST", "/accounts", bootstrapOnly, h.createAccount, opDoc{tag: "accounts", summary: "Create an account (bootstrap admin token only)",
			body: "NewAccount", responses: map[int]string{201: "Account", 409: "Problem", 422: "Problem"}}},
		{"GET", "/accounts/{a}", adminOnly, h.getAccount, opDoc{tag: "accounts", summary: "Get an account",
			responses: map[int]string{200: "Account", 404: "Problem"}}},
		{"DELETE", "/accounts/{a}", bootstrapOnly, h.deleteAccount, opDoc{tag: "accounts", summary: "Delete an account and everything in it (bootstrap admin token only)",
			responses: map[int]string{204: "", 404: "Problem", 409: "Problem"}}},

		{"GET", "/accounts/{a}/directory", adminOnly, h.getDirectory, opDoc{tag: "directory", summary: "Get the directory settings (the password is never returned)",
			responses: map[int]string{200: "Settings", 404: "Problem"}}},
		{"PUT", "/accounts/{a}/directory", adminOnly, h.putDirectory, opDoc{tag: "directory", summary: "Replace the directory settings; 422 lists every problem",
			body: "Settings", responses: map[int]string{200: "Settings", 400: "Problem", 413: "Problem", 422: "Problem"}}},
		{"POST", "/accounts/{a}/directory/test", adminOnly, h.testDirectory, opDoc{tag: "directory",
			summary:   "Test the connection: bind, read the rootDSE, count what is in scope. With a body, tests that document without saving it",
			body:      "Settings",
			optional:  true,
			responses: map[int]string{200: "ConnectionReport", 400: "Problem", 404: "Problem", 422: "Problem"}}},
		{"GET", "/accounts/{a}/directory/ous", adminOnly, h.ouTree, opDoc{tag: "directory", summary: "The OU tree under the base DN, for the OU picker",
			query:     []param{{name: "baseDn", desc: "search base (default: the settings' base DN)"}},
			responses: map[int]string{200: "OUTree", 404: "Problem", 502: "Problem"}}},

		{"POST", "/accounts/{a}/runs", adminOnly, h.runNow, opDoc{tag: "runs", summary: "Run Now: 202 with the started run, 409 with the running run",
			body: "RunRequest", optional: true, responses: map[int]string{202: "Run", 409: "Problem"}}},
		{"GET", "/accounts/{a}/runs", adminOrAuditor, h.listRuns, opDoc{tag: "runs", summary: "Run history, newest first",
			query: pg, responses: map[int]string{200: "RunList", 400: "Problem"}}},
		{"GET", "/accounts/{a}/runs/{id}", adminOrAuditor, h.getRun, opDoc{tag: "runs", summary: "A run's report: status, times, counts",
			responses: map[int]string{200: "Run", 404: "Problem"}}},
		{"GET", "/accounts/{a}/runs/{id}/events", adminOrAuditor, h.runEvents, opDoc{tag: "runs", summary: "A run's events (one per object touched, skipped or refused), JSON or CSV",
			query: append([]param{pAction, pFormat}, pg...), csv: true, responses: map[int]string{200: "EventList", 400: "Problem", 404: "Problem"}}},
		{"POST", "/accounts/{a}/runs/{id}/approve", adminOnly, h.approveRun, opDoc{tag: "runs", summary: "Approve a run held by the deletion threshold: starts a run that may delete as many objects",
			responses: map[int]string{202: "Run", 404: "Problem", 409: "Problem"}}},
		{"POST", "/accounts/{a}/runs/{id}/cancel", adminOnly, h.cancelRun, opDoc{tag: "runs", summary: "Cancel a running run (on any replica), or reject a held one",
			responses: map[int]string{200: "Run", 404: "Problem", 409: "Problem"}}},

		{"GET", "/accounts/{a}/schedule", adminOnly, h.getSchedule, opDoc{tag: "schedule", summary: "The sync schedule with its next five run times",
			responses: map[int]string{200: "ScheduleView", 404: "Problem"}}},
		{"PUT", "/accounts/{a}/schedule", adminOnly, h.putSchedule, opDoc{tag: "schedule", summary: "Replace the sync schedule",
			body: "ScheduleView", responses: map[int]string{200: "ScheduleView", 400: "Problem", 404: "Problem", 422: "Problem"}}},

		{"GET", "/accounts/{a}/protected", adminOnly, h.listProtections(roleProtected), opDoc{tag: "exclusions", summary: "Objects Active Directory must not overwrite",
			responses: map[int]string{200: "ProtectionList"}}},
		{"POST", "/accounts/{a}/protected", adminOnly, h.addProtection(roleProtected), opDoc{tag: "exclusions", summary: "Protect an object",
			body: "NewProtection", responses: map[int]string{201: "Protection", 409: "Problem", 422: "Problem"}}},
		{"DELETE", "/accounts/{a}/protected/{id}", adminOnly, h.deleteProtection(roleProtected), opDoc{tag: "exclusions", summary: "Unprotect an object",
			responses: map[int]string{204: "", 404: "Problem"}}},
		{"GET", "/accounts/{a}/owners", adminOnly, h.listProtections(roleOwner), opDoc{tag: "exclusions", summary: "Owners: users a sync must never delete or deactivate",
			responses: map[int]string{200: "ProtectionList"}}},
		{"POST", "/accounts/{a}/owners", adminOnly, h.addProtection(roleOwner), opDoc{tag: "exclusions", summary: "Add an owner",
			body: "NewProtection", responses: map[int]string{201: "Protection", 409: "Problem", 422: "Problem"}}},
		{"DELETE", "/accounts/{a}/owners/{id}", adminOnly, h.deleteProtection(roleOwner), opDoc{tag: "exclusions", summary: "Remove an owner",
			responses: map[int]string{204: "", 404: "Problem"}}},

		{"GET", "/accounts/{a}/audit/users", adminOrAuditor, h.auditUsers, opDoc{tag: "audit", summary: "Users deactivated or deleted by syncs: who, when, why, which run. JSON or CSV",
			query: append([]param{pStatus, pSince, pUntil, pFormat}, pg...), csv: true,
			responses: map[int]string{200: "AuditList", 400: "Problem", 501: "Problem"}}},
		{"GET", "/accounts/{a}/audit/users/{id}", adminOrAuditor, h.userHistory, opDoc{tag: "audit", summary: "One user's whole history of changes, newest first",
			query: pg, responses: map[int]string{200: "UserHistory", 404: "Problem", 501: "Problem"}}},

		{"GET", "/accounts/{a}/tokens", adminOnly, h.listTokens, opDoc{tag: "tokens", summary: "API tokens of the account (never their secrets)",
			responses: map[int]string{200: "TokenList"}}},
		{"POST", "/accounts/{a}/tokens", adminOnly, h.createToken, opDoc{tag: "tokens", summary: "Create a token; the response shows it once",
			body: "NewToken", responses: map[int]string{201: "CreatedToken", 422: "Problem"}}},
		{"DELETE", "/accounts/{a}/tokens/{id}", adminOnly, h.deleteToken, opDoc{tag: "tokens", summary: "Revoke a token",
			responses: map[int]string{204: "", 404: "Problem"}}},
	}
}

var (
	pOffset = param{name: "offset", typ: "integer", desc: "items to skip (default 0)"}
	pLimit  = param{name: "limit", typ: "integer", desc: "page size, 1-500 (default 50)"}
	pFormat = param{name: "format", enum: []string{"json", "csv"}, desc: "json (default) or csv"}
	pAction = param{name: "action", enum: []string{"add", "update", "deactivate", "reactivate", "delete", "unchanged", "skip", "refuse", "error"},
		desc: "only events with this action"}
	pStatus = param{name: "status", enum: []string{"deactivated", "deleted"}, desc: "deactivations or deletions only (default both)"}
	pSince  = param{name: "since", desc: "RFC 3339 time or date (inclusive)"}
	pUntil  = param{name: "until", desc: "RFC 3339 time or date (exclusive)"}
)

// Routes lists the routes (method and path under /api/v1), for tests and
// the docs.
func Routes() []Route { return (&handler{}).routes() }

var _ = http.MethodGet
