package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"crawl/downloader"
)

// addDownloadFlags binds the downloader flags of `crawl run` into c.
func addDownloadFlags(f *pflag.FlagSet, c *downloader.Config) {
	f.DurationVar(&c.Timeout, "timeout", downloader.DefaultTimeout, "time limit for one request, body included")
	f.StringVar(&c.UserAgent, "user-agent", downloader.DefaultUserAgent, "User-Agent header sent with every request")
}

func validateDownload(c *downloader.Config) error {
	if c.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", c.Timeout)
	}
	return nil
}
