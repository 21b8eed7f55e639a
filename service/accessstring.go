package service

import (
	"fmt"
	"slices"
	"strings"
)

// Access strings are Redis ACL rules (ACL SETUSER's arguments, separated
// by spaces), with ElastiCache's limits: passwords are set through the API,
// never in the string, and `reset` is refused because it would drop them
// (the RBAC guide). Only the syntax is checked here; which commands exist
// is the engine's to know.

// aclCategories are the command categories of Redis 7 and Valkey
// (ACL CAT), plus `all`.
var aclCategories = []string{"admin", "all", "bitmap", "blocking", "connection", "dangerous", "fast", "geo",
	"hash", "hyperloglog", "keyspace", "list", "pubsub", "read", "scripting", "set", "slow", "sortedset",
	"stream", "string", "transaction", "write"}

// aclKeywords are the rules without an argument that ElastiCache takes.
var aclKeywords = []string{"on", "off", "allkeys", "resetkeys", "allchannels", "resetchannels",
	"allcommands", "nocommands", "clearselectors"}

// checkAccessString checks an access string (param names it in messages)
// and returns nil or the InvalidParameterValue that says which rule is
// wrong. Rules that would carry a password are refused without repeating
// them.
func checkAccessString(param, s string) error {
	if strings.TrimSpace(s) == "" {
		return invalid(param, "must not be empty.")
	}
	if err := schemaText(s); err != nil {
		return invalid(param, err.Error())
	}
	fields := strings.Fields(s)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "(") {
			if msg := aclRule(f, false); msg != "" {
				return invalid(param, msg)
			}
			continue
		}
		// A selector, (rule rule …), may span several fields.
		sel := []string{strings.TrimPrefix(f, "(")}
		for !strings.HasSuffix(sel[len(sel)-1], ")") {
			if i++; i == len(fields) {
				return invalid(param, "a selector opened with ( is not closed with ).")
			}
			sel = append(sel, fields[i])
		}
		sel[len(sel)-1] = strings.TrimSuffix(sel[len(sel)-1], ")")
		for _, r := range sel {
			if r == "" {
				continue
			}
			if msg := aclRule(r, true); msg != "" {
				return invalid(param, msg)
			}
		}
	}
	return nil
}

// aclRule checks one rule and returns what is wrong with it, or "".
// inSelector refuses the rules a selector cannot hold.
func aclRule(r string, inSelector bool) string {
	lower := strings.ToLower(r)
	switch {
	case slices.Contains(aclKeywords, lower):
		if inSelector && (lower == "on" || lower == "off" || lower == "clearselectors") {
			return fmt.Sprintf("%s cannot be used inside a selector.", r)
		}
		return ""
	case lower == "reset":
		return "reset cannot be used: ElastiCache manages the user's passwords."
	case lower == "nopass" || lower == "resetpass" || strings.HasPrefix(r, ">") || strings.HasPrefix(r, "<") ||
		strings.HasPrefix(r, "#") || strings.HasPrefix(r, "!"):
		return "passwords cannot be set in an access string; use Passwords or AuthenticationMode."
	case strings.HasPrefix(r, "~"), strings.HasPrefix(r, "&"):
		if len(r) == 1 {
			return fmt.Sprintf("%s needs a pattern.", r)
		}
		return ""
	case strings.HasPrefix(r, "%"):
		perm, pattern, ok := strings.Cut(r[1:], "~")
		if !ok || pattern == "" || !slices.Contains([]string{"R", "W", "RW", "WR"}, strings.ToUpper(perm)) {
			return fmt.Sprintf("%s is not a key permission (%%R~, %%W~ or %%RW~ and a pattern).", r)
		}
		return ""
	case strings.HasPrefix(r, "+@"), strings.HasPrefix(r, "-@"):
		if !slices.Contains(aclCategories, strings.ToLower(r[2:])) {
			return fmt.Sprintf("%s names no command category.", r)
		}
		return ""
	case strings.HasPrefix(r, "+"), strings.HasPrefix(r, "-"):
		if !commandName(r[1:]) {
			return fmt.Sprintf("%s is not a command rule.", r)
		}
		return ""
	}
	return fmt.Sprintf("%s is not an access rule.", r)
}

// commandName reports whether s can name a command, or a command and its
// first argument (config|get): letters, digits and _ . - : before and
// after at most one |.
func commandName(s string) bool {
	cmd, arg, piped := strings.Cut(s, "|")
	return word(cmd) && (!piped || word(arg))
}

func word(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}
