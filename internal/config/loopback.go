package config

import (
	"net"
	"strings"
)

// loopbackAddr reports whether addr is host:port with a host that is
// "localhost" or a literal loopback IP (127.0.0.0/8, ::1).
func loopbackAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
