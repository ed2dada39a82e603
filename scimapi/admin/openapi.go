package admin

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// opDoc documents one route in the OpenAPI document.
type opDoc struct {
	tag, summary string
	query        []param
	body         string // component schema of the request body
	optional     bool   // the body may be left out
	csv          bool   // 200 may also be text/csv
	responses    map[int]string
}

type param struct {
	name, typ, desc string
	enum            []string
}

type obj = map[string]any

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

// OpenAPI returns the OpenAPI 3 document of the admin API.
func OpenAPI() []byte {
	openAPIOnce.Do(func() {
		openAPIDoc, _ = json.MarshalIndent(buildOpenAPI(Routes()), "", "  ")
	})
	return openAPIDoc
}

func (h *handler) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(OpenAPI())
}

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

func buildOpenAPI(routes []Route) obj {
	paths := obj{}
	for _, rt := range routes {
		item, _ := paths[rt.Path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = operation(rt)
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "scimbridge admin API",
			"version": "1",
			"description": "Configure directory sync, run it, read its reports and the audit trail. " +
				"Authenticate with `Authorization: Bearer <token>`: an admin token of the account, an auditor token " +
				"(runs and audit only), or the bootstrap admin token (SCIMBRIDGE_ADMIN_TOKEN, every account). " +
				"Errors are RFC 9457 problem documents.",
		},
		"servers":    []obj{{"url": "/api/v1"}},
		"security":   []obj{{"bearer": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas(), "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
}

func operation(rt Route) obj {
	d := rt.doc
	op := obj{
		"operationId": operationID(rt),
		"summary":     d.summary,
		"tags":        []string{d.tag},
	}
	var params []obj
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		desc := map[string]string{"a": "account id", "id": "object id"}[m[1]]
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}})
	}
	for _, p := range d.query {
		s := obj{"type": "string"}
		if p.typ != "" {
			s["type"] = p.typ
		}
		if p.enum != nil {
			s["enum"] = p.enum
		}
		params = append(params, obj{"name": p.name, "in": "query", "description": p.desc, "schema": s})
	}
	if params != nil {
		op["parameters"] = params
	}
	if d.body != "" {
		op["requestBody"] = obj{"required": !d.optional,
			"content": obj{"application/json": obj{"schema": ref(d.body)}}}
	}
	resp := obj{}
	add := func(code int, schema string) {
		key := strconv.Itoa(code)
		switch {
		case schema == "":
			resp[key] = obj{"description": http.StatusText(code)}
		case schema == "Problem":
			resp[key] = obj{"description": http.StatusText(code), "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
		default:
			content := obj{"application/json": obj{"schema": ref(schema)}}
			if d.csv && code == 200 {
				content["text/csv"] = obj{"schema": obj{"type": "string"}}
			}
			resp[key] = obj{"description": http.StatusText(code), "content": content}
		}
	}
	for code, schema := range d.responses {
		add(code, schema)
	}
	if rt.access == public {
		op["security"] = []obj{}
	} else {
		add(401, "Problem")
		add(403, "Problem")
		add(429, "Problem")
		add(503, "Problem")
	}
	if strings.Contains(rt.Path, "{a}") {
		add(404, "Problem")
	}
	if d.body != "" || rt.Method == http.MethodPost {
		add(400, "Problem")
		add(413, "Problem")
	}
	if d.body != "" {
		add(415, "Problem")
	}
	add(500, "Problem")
	op["responses"] = resp
	return op
}

func operationID(rt Route) string {
	parts := []string{strings.ToLower(rt.Method)}
	for _, seg := range strings.Split(strings.Trim(rt.Path, "/"), "/") {
		if m := pathParam.FindStringSubmatch(seg); m != nil {
			seg = "by_" + m[1]
		}
		seg = strings.NewReplacer(".", "_").Replace(seg)
		parts = append(parts, seg)
	}
	return strings.Join(parts, "_")
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str() obj                { return obj{"type": "string"} }
func strEnum(v ...string) obj { return obj{"type": "string", "enum": v} }
func integer() obj            { return obj{"type": "integer"} }
func boolean() obj            { return obj{"type": "boolean"} }
func dateTime() obj           { return obj{"type": "string", "format": "date-time"} }
func arrayOf(items obj) obj   { return obj{"type": "array", "items": items} }
func nullable(s obj) obj      { s["nullable"] = true; return s }
func strictObj(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		o["required"] = required
	}
	return o
}

func page(item string) obj {
	return strictObj(obj{"items": arrayOf(ref(item)), "total": integer(), "offset": integer(), "limit": integer()},
		"items", "total", "offset", "limit")
}

func schemas() obj {
	counts := obj{}
	for _, k := range []string{"added", "updated", "deactivated", "reactivated", "deleted", "unchanged", "skipped", "refused", "errors"} {
		counts[k] = integer()
	}
	actions := []string{"add", "update", "deactivate", "reactivate", "delete", "unchanged", "skip", "refuse", "error"}
	objectTypes := []string{"user", "group", "distribution", "ou"}
	schedule := obj{
		"enabled":    boolean(),
		"frequency":  strEnum("daily", "weekly", "monthly", "interval"),
		"weekday":    obj{"type": "string", "description": "monday ... sunday (weekly)"},
		"dayOfMonth": obj{"type": "integer", "minimum": 1, "maximum": 31, "description": "monthly; a shorter month runs on its last day"},
		"every":      strictObj(obj{"days": obj{"type": "integer", "minimum": 1}, "weeks": obj{"type": "integer", "minimum": 1}}),
		"start":      obj{"type": "string", "description": "local date and time, 2006-01-02T15:04, in timeZone", "example": "2026-12-01T02:00"},
		"timeZone":   obj{"type": "string", "description": "IANA time zone", "example": "Europe/Berlin"},
	}
	scheduleView := obj{}
	for k, v := range schedule {
		scheduleView[k] = v
	}
	scheduleView["nextRuns"] = obj{"type": "array", "items": dateTime(),
		"description": "the next five run times (RFC 3339) when enabled; ignored on PUT"}
	run := strictObj(obj{
		"id": str(), "accountId": str(),
		"trigger":    strEnum("schedule", "manual", "cli", "demo", "approval"),
		"kind":       strEnum("full", "delta"),
		"kindReason": str(), "dryRun": boolean(),
		"status": strEnum("running", "succeeded", "failed", "held", "cancelled"),
		"error":  str(), "startedAt": dateTime(), "finishedAt": dateTime(),
		"counts":        strictObj(obj{"users": ref("Counts"), "groups": ref("Counts")}, "users", "groups"),
		"approvedRunId": str(),
	}, "id", "accountId", "trigger", "status", "dryRun", "startedAt", "counts")
	token := obj{"id": str(), "accountId": str(), "role": strEnum("admin", "auditor", "scim"), "name": str(),
		"createdAt": dateTime(), "lastUsedAt": dateTime()}
	createdToken := obj{}
	for k, v := range token {
		createdToken[k] = v
	}
	createdToken["token"] = obj{"type": "string", "description": "the secret, shown once"}
	return obj{
		"Any":         obj{},
		"Account":     strictObj(obj{"id": str(), "name": str(), "createdAt": dateTime()}, "id", "name", "createdAt"),
		"AccountList": strictObj(obj{"items": arrayOf(ref("Account"))}, "items"),
		"NewAccount":  strictObj(obj{"id": obj{"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"}, "name": str()}, "id"),
		"Settings": strictObj(obj{
			"connection": strictObj(obj{
				"host": str(), "port": integer(), "security": strEnum("none", "starttls", "ldaps"),
				"caCertificate": obj{"type": "string", "description": "PEM CA bundle"}, "insecureSkipVerify": boolean(),
				"baseDn": str(), "bindDn": str(),
				"password":       obj{"type": "string", "writeOnly": true, "description": "write-only: stored encrypted, never returned; leave out to keep the stored one"},
				"timeoutSeconds": integer(),
			}),
			"organizationalUnits": strictObj(obj{"mode": strEnum("all", "selected", "none"), "selected": arrayOf(str())}),
			"distributionLists":   strictObj(obj{"import": boolean()}),
			"users": strictObj(obj{
				"mapping":         strEnum("default", "custom"),
				"customMappings":  arrayOf(strictObj(obj{"scim": str(), "ldap": str(), "value": str()}, "scim")),
				"inclusionFilter": str(), "exclusionFilter": str(),
			}),
			"deletionThreshold": strictObj(obj{"maxCount": integer(), "maxPercent": integer()}),
			"schedule":          obj{"$ref": "#/components/schemas/Schedule"},
		}),
		"Schedule":     strictObj(schedule),
		"ScheduleView": strictObj(scheduleView),
		"ConnectionReport": strictObj(obj{
			"ok": boolean(), "error": str(),
			"server": strictObj(obj{"dnsHostName": str(), "defaultNamingContext": str(), "highestCommittedUSN": integer(),
				"supportedControls": arrayOf(str()), "dsServiceName": str(), "invocationId": str(),
				"supportsPaging": boolean(), "supportsDirSync": boolean(), "supportsShowDeleted": boolean()}),
			"inScope": strictObj(obj{"users": integer(), "groups": integer(), "organizationalUnits": integer()}),
		}, "ok"),
		"OUNode":     strictObj(obj{"dn": str(), "name": str(), "guid": str(), "children": arrayOf(ref("OUNode"))}, "dn", "name"),
		"OUTree":     strictObj(obj{"baseDn": str(), "items": arrayOf(ref("OUNode"))}, "baseDn", "items"),
		"RunRequest": strictObj(obj{"dryRun": boolean(), "full": boolean()}),
		"Counts":     strictObj(counts),
		"Run":        run,
		"RunList":    page("Run"),
		"RunEvent": strictObj(obj{"id": integer(), "runId": str(), "accountId": str(), "objectType": strEnum(objectTypes...),
			"action": strEnum(actions...), "dn": str(), "externalId": str(), "resourceId": str(), "name": str(), "reason": str(),
			"changed": arrayOf(str()), "at": dateTime()}, "id", "runId", "action", "at"),
		"EventList": page("RunEvent"),
		"Protection": strictObj(obj{"id": str(), "accountId": str(), "role": strEnum("protected", "owner"),
			"objectType": strEnum(objectTypes...), "externalId": str(), "resourceId": str(), "note": str(), "createdAt": dateTime()},
			"id", "accountId", "role", "objectType", "createdAt"),
		"ProtectionList": strictObj(obj{"items": arrayOf(ref("Protection"))}, "items"),
		"NewProtection": strictObj(obj{"objectType": strEnum(objectTypes...), "externalId": obj{"type": "string", "description": "objectGUID"},
			"resourceId": obj{"type": "string", "description": "SCIM id, for local objects"}, "note": str()}, "objectType"),
		"AuditEntry": strictObj(obj{"at": dateTime(), "status": strEnum("deactivated", "deleted"), "userId": str(), "userName": str(),
			"externalId": str(), "dn": str(), "reason": str(), "runId": str()}, "at", "status", "userId", "runId"),
		"AuditList": page("AuditEntry"),
		"UserState": nullable(strictObj(obj{"id": str(), "userName": str(), "displayName": str(), "externalId": str(),
			"source": strEnum("ad", "local"), "status": strEnum("active", "deactivated", "deleted"), "active": boolean(), "dn": str(),
			"deletedAt": dateTime(), "deleteReason": str(), "createdAt": dateTime(), "updatedAt": dateTime()}, "id", "userName", "status")),
		"UserHistory": strictObj(obj{"user": ref("UserState"), "items": arrayOf(ref("RunEvent")), "total": integer(),
			"offset": integer(), "limit": integer()}, "user", "items", "total"),
		"Token":        strictObj(token, "id", "accountId", "role", "createdAt"),
		"TokenList":    strictObj(obj{"items": arrayOf(ref("Token"))}, "items"),
		"NewToken":     strictObj(obj{"role": strEnum("admin", "auditor", "scim"), "name": str()}, "role"),
		"CreatedToken": strictObj(createdToken, "id", "accountId", "role", "token", "createdAt"),
		"Problem": obj{"type": "object", "required": []string{"type", "title", "status"}, "properties": obj{
			"type": str(), "title": str(), "status": integer(), "detail": str(), "instance": str(),
			"problems": arrayOf(strictObj(obj{"field": str(), "message": str()}, "field", "message")),
			"run":      ref("Run"),
		}},
	}
}
