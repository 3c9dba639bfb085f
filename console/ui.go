package console

import "github.com/amqpemu/amqpemu/console/web"

// uiRoutes serves the web console (package web): the page at "/" (an RPC
// call there goes to cfg.RPC first, see route) and its assets under /ui/,
// behind the same authentication as the REST API.
func (s *Server) uiRoutes() {
	ui := web.Handler()
	s.mux.Handle("GET /{$}", ui)
	s.mux.Handle("GET /ui/", ui)
}

// isUI reports whether path is the web console's.
func isUI(path string) bool { return path == "/" || len(path) > 4 && path[:4] == "/ui/" }
