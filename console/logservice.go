package console

import (
	"net/http"
	"strings"
)

// isLogService reports whether r is a call of the log service's API, which
// Config.LogService answers: its SDK signs every call with an
// Authorization header of its own scheme ("LOG ak:sig", or
// "SLS4-HMAC-SHA256 …" with AuthV4) that no other surface uses, and it
// reaches the emulator through HTTP_PROXY with a Host of
// {project}.{endpoint}, which is not a name of this server, for paths
// under /logstores. Either says "log service"; a browser sends neither.
func isLogService(r *http.Request, extraHosts []string) bool {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "LOG ") || strings.HasPrefix(auth, "SLS4-HMAC-SHA256 ") {
		return true
	}
	path := r.URL.Path
	return (path == "/logstores" || strings.HasPrefix(path, "/logstores/")) && !hostAllowed(r.Host, extraHosts)
}
