package sqlstore

import (
	"context"
	"fmt"
)

// reencryptBatch is how many rows ReencryptAll reads at a time.
const reencryptBatch = 200

// ReencryptAll re-encrypts under the keyring's newest key every ciphertext
// that is under an older one, and returns how many it rewrote. Run it after
// putting a new key first in the keyring; once it returns, the old keys can
// be dropped. It is safe while the store is in use: each row is rewritten
// only if its ciphertext is still the one that was read (a concurrent
// update already wrote it under the newest key), and row versions and
// updated_at are left alone, since the secrets themselves did not change.
// A value that fails to decrypt stops the pass with an error naming the
// row; rows done by then stay done, and a rerun picks up the rest.
func (s *Store) ReencryptAll(ctx context.Context) (int, error) {
	// Every column holding a ciphertext, with its table (which is also the
	// AAD prefix, see aad).
	encryptedColumns := []struct{ table, column string }{
		{connectorConfigsTable, "secrets_enc"},
		{connectionsTable, "credentials_enc"},
	}
	total := 0
	for _, ec := range encryptedColumns {
		n, err := s.reencryptColumn(ctx, ec.table, ec.column)
		total += n
		if err != nil {
			return total, err
		}
	}
	s.log.Info("re-encrypted secrets", "rows", total, "key_id", s.keys.NewestKeyID())
	return total, nil
}

func (s *Store) reencryptColumn(ctx context.Context, table, column string) (int, error) {
	type row struct{ id, enc string }
	rewritten := 0
	after := ""
	for {
		// Read a page, then close it before writing: SQLite has one
		// connection, which the open rows would hold.
		rows, err := s.db.QueryContext(ctx, s.rebind(
			`SELECT id, `+column+` FROM `+table+` WHERE id > ? ORDER BY id LIMIT ?`), after, reencryptBatch)
		if err != nil {
			return rewritten, fmt.Errorf("sqlstore: re-encrypt %s: %w", table, err)
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.enc); err != nil {
				rows.Close()
				return rewritten, fmt.Errorf("sqlstore: re-encrypt %s: %w", table, err)
			}
			page = append(page, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return rewritten, fmt.Errorf("sqlstore: re-encrypt %s: %w", table, err)
		}
		if len(page) == 0 {
			return rewritten, nil
		}
		after = page[len(page)-1].id

		for _, r := range page {
			if !s.keys.NeedsRotation(r.enc) {
				continue
			}
			plain, err := s.keys.Decrypt(r.enc, aad(table, r.id))
			if err != nil {
				return rewritten, fmt.Errorf("sqlstore: re-encrypt %s/%s: %w", table, r.id, err)
			}
			enc, err := s.keys.Encrypt(plain, aad(table, r.id))
			clear(plain)
			if err != nil {
				return rewritten, fmt.Errorf("sqlstore: re-encrypt %s/%s: %w", table, r.id, err)
			}
			res, err := s.db.ExecContext(ctx, s.rebind(
				`UPDATE `+table+` SET `+column+` = ? WHERE id = ? AND `+column+` = ?`), enc, r.id, r.enc)
			if err != nil {
				return rewritten, fmt.Errorf("sqlstore: re-encrypt %s/%s: %w", table, r.id, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				rewritten++
			}
		}
	}
}
