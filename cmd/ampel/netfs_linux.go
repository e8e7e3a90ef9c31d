package main

import "golang.org/x/sys/unix"

// fsType returns the type of the file system dir is on (statfs f_type).
func fsType(dir string) (uint32, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint32(st.Type), nil
}
