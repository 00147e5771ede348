package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTick is the unit of utime/stime in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// cpuMeter reads the CPU time used so far by the processes under test: the
// hookd servers and, with --db on this machine, every process of the
// PostgreSQL cluster (the postmaster, its backends and background workers).
// A backend that exits is counted through the postmaster's cutime/cstime,
// so connections closed during a window are not lost.
type cpuMeter struct {
	hookdPIDs  func() []int // the servers of the scenario (they change on restart)
	postmaster int          // 0: no local Postgres
}

// cpuSample is one reading of a cpuMeter.
type cpuSample struct {
	hookd, postgres time.Duration
	ok              bool
}

// read returns the CPU time used so far; ok is false when /proc is unreadable.
func (m *cpuMeter) read() cpuSample {
	if m == nil {
		return cpuSample{}
	}
	s := cpuSample{ok: true}
	for _, pid := range m.hookdPIDs() {
		st, err := readProcStat(pid)
		if err != nil {
			s.ok = false
			continue
		}
		s.hookd += st.self()
	}
	if m.postmaster > 0 {
		pm, err := readProcStat(m.postmaster)
		if err != nil {
			s.ok = false
			return s
		}
		s.postgres = pm.self() + pm.children
		for _, st := range childrenOf(m.postmaster) {
			s.postgres += st.self()
		}
	}
	return s
}

// cpuUse is the CPU time used between two samples.
type cpuUse struct {
	Hookd, Postgres time.Duration
	OK              bool
}

func (a cpuSample) until(b cpuSample) cpuUse {
	return cpuUse{Hookd: b.hookd - a.hookd, Postgres: b.postgres - a.postgres, OK: a.ok && b.ok}
}

// procStat is the CPU part of /proc/<pid>/stat.
type procStat struct {
	ppid                   int
	utime, stime, children time.Duration // children: cutime + cstime (reaped children)
}

func (p procStat) self() time.Duration { return p.utime + p.stime }

// readProcStat parses /proc/<pid>/stat.
func readProcStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	return procStat{
		ppid:     int(num(1)),
		utime:    time.Duration(num(11)) * clockTick,
		stime:    time.Duration(num(12)) * clockTick,
		children: time.Duration(num(13)+num(14)) * clockTick,
	}, nil
}

// childrenOf returns the stat of every live process whose parent is pid.
func childrenOf(pid int) []procStat {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procStat
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(n)
		if err == nil && st.ppid == pid {
			out = append(out, st)
		}
	}
	return out
}

// postmasterOf returns the pid of the postmaster serving dsn when it runs on
// this machine (the parent of our backend), or 0 when it cannot be read (a
// remote server, another PID namespace).
func postmasterOf(ctx context.Context, dsn string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	st, err := readProcStat(backend)
	if err != nil || st.ppid <= 1 {
		return 0
	}
	return st.ppid
}

// cpuFigures is the CPU cost of a measured window, per unit of work.
type cpuFigures struct {
	HookdMsPer    float64 `json:"hookd_cpu_ms_per_delivery"`
	PostgresMsPer float64 `json:"postgres_cpu_ms_per_delivery,omitempty"`
	HookdCores    float64 `json:"hookd_cores"` // CPU seconds per second of the window
	PostgresCores float64 `json:"postgres_cores,omitempty"`
	// PerCPUSecond is deliveries per CPU-second of hookd and Postgres together.
	PerCPUSecond float64 `json:"delivered_per_cpu_s"`
}

// figures divides u by n deliveries over a window of length d; nil when the
// CPU time could not be read or nothing was delivered.
func (u cpuUse) figures(n int64, d time.Duration) *cpuFigures {
	if !u.OK || n <= 0 || d <= 0 {
		return nil
	}
	f := &cpuFigures{
		HookdMsPer:    ms(u.Hookd) / float64(n),
		PostgresMsPer: ms(u.Postgres) / float64(n),
		HookdCores:    u.Hookd.Seconds() / d.Seconds(),
		PostgresCores: u.Postgres.Seconds() / d.Seconds(),
	}
	if total := (u.Hookd + u.Postgres).Seconds(); total > 0 {
		f.PerCPUSecond = float64(n) / total
	}
	return f
}
