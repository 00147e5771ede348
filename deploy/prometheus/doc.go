// Package prometheus holds the Prometheus alerting rules that ship with
// hookd (alerts.yml) and their promtool unit tests (alerts_test.yml); its Go
// test runs `promtool check rules` and `promtool test rules` on them. It
// must not import any other hookd package.
package prometheus
