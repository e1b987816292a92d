// Package galeratest proves Rectify on a real three-node MariaDB Galera
// cluster behind HAProxy, with two Rectify instances writing through two
// different nodes: load with unique codes and no 5xx, racing verifications,
// a node killed mid-load, a node cut off from the others, instances started
// together on an empty database and the scheduler's hand-over. It runs with
// RECTIFY_GALERA=1 (see .ci/run) and needs Debian's mariadb-server, galera-4,
// rsync and haproxy.
package galeratest
