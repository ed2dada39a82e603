package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// roles that may open a page.
type pageAccess int

const (
	adminOnly pageAccess = iota
	anyRole
)

// pageData is what every page template gets.
type pageData struct {
	Title     string
	Page      string
	CSRF      string
	Account   string
	Role      string
	Name      string
	Admin     bool
	RunID     string
	Error     string
	Notice    string
	AccountIn string
	Mapping   []mappingRow
}

// mappingRow is one row of the default user mapping, shown on the Users tab.
type mappingRow struct{ AD, SCIM string }

// defaultMapping is DESIGN.md's default table, for display.
var defaultMapping = []mappingRow{
	{"userPrincipalName (else sAMAccountName)", "userName"},
	{"displayName (else cn)", "displayName"},
	{"givenName", "name.givenName"},
	{"sn", "name.familyName"},
	{"mail", `emails[type eq "work"].value (primary)`},
	{"telephoneNumber", `phoneNumbers[type eq "work"].value`},
	{"mobile", `phoneNumbers[type eq "mobile"].value`},
	{"title", "title"},
	{"streetAddress, l, st, postalCode, c (else co)", `addresses[type eq "work"]: streetAddress, locality, region, postalCode, country`},
	{"physicalDeliveryOfficeName", `addresses[type eq "work"].location`},
	{"department, company, employeeID", "enterprise extension: department, organization, employeeNumber"},
	{"manager (DN)", "enterprise extension: manager.value (the manager's SCIM id)"},
	{"userAccountControl bit 0x2 (disabled)", "active = false"},
}

func (c *console) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, d); err != nil {
		c.log.Error("rendering a console page failed", "page", name, "err", err)
		http.Error(w, "The page could not be rendered; see the server log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusNotFound, "notfound.html", pageData{Title: "Not found", Page: "notfound"})
}

// home sends a signed-in user to their first page.
func (c *console) home(w http.ResponseWriter, r *http.Request) {
	s, err := c.currentSession(r)
	if err != nil {
		http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, landing(s), http.StatusSeeOther)
}

func landing(s session) string {
	if s.admin() {
		return Prefix + "/settings"
	}
	return Prefix + "/audit"
}

// page serves one signed-in page shell; its script loads the data.
func (c *console) page(name, title string, access pageAccess) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			if !errors.Is(err, errNoSession) {
				c.log.Error("checking a console session failed", "err", err)
				http.Error(w, "The service is temporarily unavailable.", http.StatusServiceUnavailable)
				return
			}
			http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
			return
		}
		if access == adminOnly && !s.admin() {
			http.Redirect(w, r, landing(s), http.StatusSeeOther)
			return
		}
		d := c.data(s, name, title)
		d.RunID = mux.Vars(r)["id"]
		if name == "wizard" {
			d.Mapping = defaultMapping
		}
		c.render(w, http.StatusOK, name+".html", d)
	})
}

func (c *console) data(s session, page, title string) pageData {
	return pageData{Title: title, Page: page, CSRF: s.CSRF, Account: s.Account, Role: string(s.Role), Name: s.Name, Admin: s.admin()}
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := c.currentSession(r); err == nil {
		http.Redirect(w, r, landing(s), http.StatusSeeOther)
		return
	}
	d := pageData{Title: "Sign in", Page: "login"}
	if r.URL.Query().Get("expired") != "" {
		d.Notice = "Your session ended. Sign in again."
	}
	c.renderLogin(w, r, http.StatusOK, d)
}

// renderLogin renders the sign-in form with a fresh login CSRF token
// (double submit: the form field must match the HttpOnly cookie).
func (c *console) renderLogin(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.CSRF = randomToken()
	c.setCookie(w, r, LoginCookie, d.CSRF, time.Hour)
	c.render(w, status, "login.html", d)
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The form is larger than 64 KiB.", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	ck, _ := r.Cookie(LoginCookie)
	d := pageData{Title: "Sign in", Page: "login", AccountIn: strings.TrimSpace(r.PostFormValue("account"))}
	if ck == nil || crossSite(r) || !sameToken(r.PostFormValue(csrfField), ck.Value) {
		d.Error = "The sign-in form expired or did not come from this page. Try again."
		c.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	if secret == "" {
		d.Error = "Enter an admin or auditor token."
		c.refuseLogin(w, r, d)
		return
	}
	tok, err := c.findToken(r.Context(), secret)
	switch {
	case errors.Is(err, bridge.ErrNotFound):
		c.log.Info("console sign-in refused: unknown token", "fingerprint", tokenFingerprint(secret))
		d.Error = "This token is not valid. Use an admin or auditor token of your account."
		c.refuseLogin(w, r, d)
		return
	case err != nil:
		c.log.Error("console sign-in: token lookup failed", "err", err)
		d.Error = "The service is temporarily unavailable. Try again."
		c.renderLogin(w, r, http.StatusServiceUnavailable, d)
		return
	}
	if tok.Role != bridge.TokenAdmin && tok.Role != bridge.TokenAuditor {
		d.Error = "This is a SCIM token: it reaches only /scim/v2. Sign in with an admin or auditor token."
		c.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	acct := tok.AccountID
	if acct == "" { // the bootstrap token is an admin of every account
		acct = d.AccountIn
		if acct == "" {
			acct = bridge.DefaultAccount
		}
		if !accountPattern.MatchString(acct) {
			d.Error = "The account id is 1-63 lower-case letters, digits, - or _."
			c.renderLogin(w, r, http.StatusUnprocessableEntity, d)
			return
		}
	}
	s := session{Token: secret, Account: acct, Role: tok.Role, Name: tok.Name, CSRF: randomToken(),
		ExpiresAt: c.now().Add(c.opt.SessionTTL).Unix()}
	val, err := c.sealSession(s)
	if err != nil {
		c.log.Error("console sign-in: sealing the session failed", "err", err)
		http.Error(w, "The session could not be created; see the server log.", http.StatusInternalServerError)
		return
	}
	c.setCookie(w, r, LoginCookie, "", -1)
	c.setCookie(w, r, SessionCookie, val, c.opt.SessionTTL)
	c.log.Info("console sign-in", "account", acct, "role", tok.Role, "token", tok.ID)
	http.Redirect(w, r, landing(s), http.StatusSeeOther)
}

// refuseLogin answers a failed sign-in: 401 with d.Error, or 429 with
// Retry-After once the client has failed too often (the limiter of the
// admin API and SCIM).
func (c *console) refuseLogin(w http.ResponseWriter, r *http.Request, d pageData) {
	if retry, limited := c.opt.Limiter.Fail(r); limited {
		auth.SetRetryAfter(w, retry)
		d.Error = fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d seconds.", auth.RetryAfterSeconds(retry))
		c.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	c.renderLogin(w, r, http.StatusUnauthorized, d)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	s, err := c.openSession(r)
	if err == nil && !checkCSRF(r, s.CSRF) {
		http.Error(w, "The sign-out form did not come from this console (CSRF check failed).", http.StatusForbidden)
		return
	}
	c.setCookie(w, r, SessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}
