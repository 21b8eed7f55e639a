package server

import (
	"encoding/json"
	"net/http"
)

// writeAdminJSON answers an admin or metrics request with v as JSON.
func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeAdminError answers {"error": {"code": …, "message": …}}.
func writeAdminError(w http.ResponseWriter, status int, code, message string) {
	writeAdminJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
