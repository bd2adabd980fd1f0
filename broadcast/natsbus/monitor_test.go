package natsbus

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServerMonitor(t *testing.T) {
	off, err := StartServer(ServerOptions{Port: -1})
	require.NoError(t, err)
	require.Nil(t, off.MonitorAddr(), "monitoring is off by default")
	require.NoError(t, off.Close())

	srv, err := StartServer(ServerOptions{Port: -1, MonitorPort: -1})
	require.NoError(t, err)
	defer srv.Close()
	addr := srv.MonitorAddr()
	require.NotNil(t, addr)
	host, _, err := net.SplitHostPort(addr.String())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host, "loopback by default")

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr.String() + "/varz")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var varz struct {
		Port int `json:"port"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&varz))
	require.Equal(t, srv.Port(), varz.Port)

	_, err = StartServer(ServerOptions{Port: -1, MonitorPort: 70000})
	require.ErrorIs(t, err, ErrOptions)
}

// TestServerMonitorBusy: a monitoring port already taken fails StartServer
// at once instead of after the ready timeout.
func TestServerMonitorBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = StartServer(ServerOptions{Port: -1, MonitorPort: port})
	require.ErrorIs(t, err, ErrServer)
}
