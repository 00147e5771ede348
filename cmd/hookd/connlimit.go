package main

import (
	"net"
	"sync"
)

// connReserve is the number of file descriptors kept out of the API's
// connection cap for the database, outgoing deliveries and logs.
const connReserve = 256

// limitListener accepts at most n connections at a time: Accept waits for
// a slot, so a flood of clients queues in the kernel's backlog instead of
// using up the process's descriptors (which would also starve deliveries
// and the database). The slot is freed when the connection closes.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
