package service

// ReloadTLS re-reads the TLS certificate, key and client CAs (serve does
// it on SIGHUP). Without TLS configured it does nothing.
func (d *Service) ReloadTLS() error {
	if d.tls == nil {
		return nil
	}
	if err := d.tls.Reload(); err != nil {
		return err
	}
	d.log.Info("TLS files reloaded", "cert_file", d.cfg.TLS.CertFile, "not_after", d.tls.NotAfter())
	return nil
}
