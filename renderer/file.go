package renderer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// TempPrefix starts the name of every temporary file WriteFile creates next to a destination.
// The leading dot keeps the file out of `*.conf`-style globs and out of directories that
// programs such as dnsmasq (--hostsdir) read wholesale; RemoveStaleTemps deletes leftovers.
const TempPrefix = ".ctpl-tmp-"

const (
	// defaultPerms is the mode of a new destination file when FileOptions.Perms is 0.
	defaultPerms os.FileMode = 0o644
	// dirPerms is the mode of parent directories created for CreateDestDirs.
	dirPerms os.FileMode = 0o755
	// modeBits are the bits of an os.FileMode that chmod sets.
	modeBits = os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky
)

// afterTempWrite, when set (by tests), is called with the path of the staged temporary file
// after it is fully written and before it is renamed over the destination.
var afterTempWrite func(path string)

// FileOptions says how a destination file is written.
type FileOptions struct {
	Perms          os.FileMode // 0 = keep the existing file's mode, else 0644
	UID, GID       int         // -1 = keep existing owner (or process default for new files)
	Backup         bool        // keep the previous content as DEST.bak before replacing
	CreateDestDirs bool        // create missing parent directories (0755)
}

// DefaultFileOptions returns the options that keep an existing file's mode and owner and
// create new files 0644 owned by the process. Note that the zero FileOptions differs: its
// UID and GID of 0 make every written file owned by root.
func DefaultFileOptions() FileOptions {
	return FileOptions{UID: -1, GID: -1}
}

// existingFile is what the destination held before a write.
type existingFile struct {
	content  []byte
	mode     os.FileMode
	uid, gid int // -1 when unknown
}

// fileTarget is the mode and owner the written file must end up with; -1 leaves an id alone.
type fileTarget struct {
	mode     os.FileMode
	uid, gid int
}

// WriteFile replaces dest with content atomically and reports whether the content changed.
// It is [Stage] followed by [Staged.Commit].
//
// When dest already holds content with the wanted mode and owner, nothing is written and
// changed is false. Otherwise content goes to a temporary file (named TempPrefix + random
// digits) in dest's directory, which is synced, given its mode and owner explicitly (the umask
// plays no part), and renamed over dest; then the directory is synced. The mode is
// opts.Perms, else the existing file's mode, else 0644. The owner is opts.UID/GID where they
// are >= 0, else the existing file's owner; a failing chown is reported, never ignored.
// With opts.Backup the previous content is first saved, atomically and with its old mode and
// owner, as dest+".bak". A write that only corrects mode or owner also goes through the
// rename but reports changed == false.
//
// Before the rename any error removes the temporary files and leaves dest untouched. An error
// syncing the directory after the rename is returned together with the changed flag, since
// the new content is already in place. A symbolic link at dest, or a file with other names
// (a hard link), is never read: it is replaced by a regular file (the rename replaces the
// link, its target keeps its content) as if dest were new.
func WriteFile(dest string, content []byte, opts FileOptions) (changed bool, err error) {
	st, err := Stage(dest, content, opts)
	if err != nil {
		return false, err
	}
	return st.Commit()
}

// Staged is content written to a temporary file next to its destination, not yet renamed
// over it. Exactly one of Commit and Discard must follow.
type Staged struct {
	dest    string
	tmp     string // "" when nothing needs writing
	opts    FileOptions
	old     *existingFile
	changed bool // the content differs from dest's
	content []byte
	memo    *fileMemo // told what dest holds after the commit; may be nil
}

// Stage writes content to a dot-prefixed temporary file in dest's directory, synced and with
// its final mode and owner, and returns it for a check before [Staged.Commit]. When dest
// already holds content with the wanted mode and owner nothing is written: the result's Path
// is "" and Commit does nothing. On error nothing is left behind.
func Stage(dest string, content []byte, opts FileOptions) (*Staged, error) {
	return stageKnown(dest, content, opts, nil)
}

// stageKnown is Stage for a destination memo knows of: it skips reading
// dest back when memo says what it holds, and keeps memo up to date (also
// on Commit). content must not be modified afterwards: memo keeps it.
func stageKnown(dest string, content []byte, opts FileOptions, memo *fileMemo) (*Staged, error) {
	st, err := stage(dest, content, opts, memo)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", dest, err)
	}
	return st, nil
}

func stage(dest string, content []byte, opts FileOptions, memo *fileMemo) (*Staged, error) {
	old, err := readExisting(dest, content, opts.Backup, memo)
	if err != nil {
		return nil, err
	}
	st := &Staged{dest: dest, opts: opts, old: old, content: content, memo: memo}
	want := resolveTarget(opts, old)
	st.changed = old == nil || !bytes.Equal(old.content, content)
	if !st.changed && old.mode == want.mode && ownerMatches(want, old.uid, old.gid) {
		return st, nil
	}
	dir := filepath.Dir(dest)
	if opts.CreateDestDirs {
		if err := mkdirAll(dir); err != nil {
			return nil, err
		}
	}
	if st.tmp, err = writeTemp(dir, content, want); err != nil {
		return nil, err
	}
	if afterTempWrite != nil {
		afterTempWrite(st.tmp)
	}
	return st, nil
}

// Path returns the staged file's path, or "" when there is nothing to commit.
func (s *Staged) Path() string { return s.tmp }

// Changed reports whether committing changes dest's content (not only its mode or owner).
func (s *Staged) Changed() bool { return s.changed }

// Previous returns dest's content before the write, and whether dest existed.
func (s *Staged) Previous() ([]byte, bool) {
	if s.old == nil {
		return nil, false
	}
	return s.old.content, true
}

// Discard removes the staged file; dest keeps its content.
func (s *Staged) Discard() {
	if s.tmp != "" {
		os.Remove(s.tmp)
		s.tmp = ""
	}
}

// Commit renames the staged file over dest (saving the old content first with Backup) and
// syncs the directory. It reports whether dest's content changed. Before the rename any error
// removes the staged file and leaves dest untouched.
func (s *Staged) Commit() (changed bool, err error) {
	changed, err = s.commit()
	if err != nil {
		return changed, fmt.Errorf("write %s: %w", s.dest, err)
	}
	return changed, nil
}

func (s *Staged) commit() (bool, error) {
	if s.tmp == "" {
		return false, nil
	}
	defer s.Discard()
	if s.opts.Backup && s.old != nil && s.changed {
		if err := writeBackup(s.dest+".bak", s.old); err != nil {
			return false, fmt.Errorf("backup: %w", err)
		}
	}
	if err := os.Rename(s.tmp, s.dest); err != nil {
		return false, err
	}
	s.tmp = ""
	s.memo.rememberWritten(s.dest, s.content)
	if err := syncDir(filepath.Dir(s.dest)); err != nil {
		return s.changed, err
	}
	return s.changed, nil
}

// readExisting returns dest's content, mode and owner, or nil when dest does not exist.
// It reads dest only when memo cannot tell its content; a racy memo tells it only when
// content differs from it and no backup needs the old content.
func readExisting(dest string, content []byte, backup bool, memo *fileMemo) (*existingFile, error) {
	at := time.Now()
	info, err := os.Lstat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, syscall.EISDIR
	}
	if plantedLink(info) {
		// Never read through a link: its target may be anyone's file (a
		// secret copied out as "the last good content"; a 2 GB file read
		// whole). The rename replaces the link itself, the target is left
		// alone, and dest counts as new.
		return nil, nil
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	old := &existingFile{mode: info.Mode() & modeBits, uid: -1, gid: -1}
	sys, _ := info.Sys().(*syscall.Stat_t)
	if sys != nil {
		old.uid, old.gid = int(sys.Uid), int(sys.Gid)
	}
	if known, ok := memo.holds(sys); ok && (memo.trusted || !backup && !bytes.Equal(known, content)) {
		old.content = known
		return old, nil
	}
	if old.content, err = os.ReadFile(dest); err != nil {
		return nil, err
	}
	if bytes.Equal(old.content, content) {
		old.content = content // one copy of it is enough
	}
	memo.remember(sys, at, old.content)
	return old, nil
}

// plantedLink reports whether info, from Lstat, is a symbolic link or a
// regular file with more than one name (a hard link): content ctpl did not
// write there and must not read.
func plantedLink(info fs.FileInfo) bool {
	if info.Mode()&fs.ModeSymlink != 0 {
		return true
	}
	sys, ok := info.Sys().(*syscall.Stat_t)
	return ok && info.Mode().IsRegular() && sys.Nlink > 1
}

// resolveTarget picks the final mode and owner from the options and the existing file.
func resolveTarget(opts FileOptions, old *existingFile) fileTarget {
	want := fileTarget{mode: defaultPerms, uid: opts.UID, gid: opts.GID}
	if old != nil {
		want.mode = old.mode
		if want.uid < 0 {
			want.uid = old.uid
		}
		if want.gid < 0 {
			want.gid = old.gid
		}
	}
	if opts.Perms != 0 {
		want.mode = opts.Perms & modeBits
	}
	return want
}

// ownerMatches reports whether a file owned by uid:gid already satisfies want.
func ownerMatches(want fileTarget, uid, gid int) bool {
	return (want.uid < 0 || want.uid == uid) && (want.gid < 0 || want.gid == gid)
}

// writeTemp writes content to a new temporary file in dir with the wanted mode and owner,
// syncs it and returns its path. On error nothing is left behind.
func writeTemp(dir string, content []byte, want fileTarget) (string, error) {
	f, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return "", stableTempError(err, dir) // a read-only file system: the same error every time
	}
	path := f.Name()
	err = fillTemp(f, content, want)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", stableTempError(err, dir)
	}
	return path, nil
}

// stableTempError names the temporary file by its pattern in err, so that
// the same failure repeated gives the same message (logged once).
func stableTempError(err error, dir string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.HasPrefix(filepath.Base(pe.Path), TempPrefix) {
		return &fs.PathError{Op: pe.Op, Path: filepath.Join(dir, TempPrefix+"*"), Err: pe.Err}
	}
	return err
}

// fillTemp writes content, sets owner then mode (chown may clear set-id bits), and syncs.
func fillTemp(f *os.File, content []byte, want fileTarget) error {
	if _, err := f.Write(content); err != nil {
		return err
	}
	if err := chownIfNeeded(f, want); err != nil {
		return err
	}
	if err := f.Chmod(want.mode); err != nil {
		return err
	}
	return f.Sync()
}

// chownIfNeeded changes f's owner when it differs from want, so that an unprivileged
// process keeping its own ownership never needs to call chown.
func chownIfNeeded(f *os.File, want fileTarget) error {
	if want.uid < 0 && want.gid < 0 {
		return nil
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && ownerMatches(want, int(st.Uid), int(st.Gid)) {
		return nil
	}
	return f.Chown(want.uid, want.gid)
}

// writeBackup atomically replaces path with the old file's content, mode and owner.
func writeBackup(path string, old *existingFile) error {
	tmp, err := writeTemp(filepath.Dir(path), old.content, fileTarget{mode: old.mode, uid: old.uid, gid: old.gid})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// mkdirAll creates dir and any missing parents with mode 0755 regardless of the umask.
func mkdirAll(dir string) error {
	info, err := os.Stat(dir)
	if err == nil {
		if !info.IsDir() {
			return fmt.Errorf("%s: %w", dir, syscall.ENOTDIR)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirPerms); err != nil {
		if errors.Is(err, fs.ErrExist) { // created concurrently
			return nil
		}
		return err
	}
	return os.Chmod(dir, dirPerms)
}

// syncDir flushes dir's entries, making a rename inside it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// RemoveStaleTemps deletes the regular files in dir whose names start with TempPrefix, as a
// crash during WriteFile may leave them behind, and returns their paths. Call it at start-up,
// before any write to dir begins. A missing dir has nothing to remove and is not an error.
func RemoveStaleTemps(dir string) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove stale temps in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), TempPrefix) || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("remove stale temps in %s: %w", dir, err)
	}
	return removed, nil
}
