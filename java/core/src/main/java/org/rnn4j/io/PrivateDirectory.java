package org.rnn4j.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * A directory only this user can write, for native libraries that rnn4j extracts and then loads (JCuda's, OpenBLAS's
 * through JavaCPP): a library another local user could plant or replace there would run inside every rnn4j process.
 * One rule for every such directory: it belongs to this user, neither its group nor others can write it, and every
 * directory above it belongs to this user or root and is not writable by others unless sticky (as {@code /tmp}) — the
 * rule OpenSSH applies to its own files. Linux and other Unix systems; elsewhere the check reports that it cannot tell.
 */
public final class PrivateDirectory {

    private PrivateDirectory() {
    }

    /**
     * Creates {@code dir} where missing (each missing level mode 0700) and checks that it is private.
     *
     * @param dir    the directory
     * @param envVar the environment variable a user sets to choose another directory, named in the messages
     * @return the directory's real path
     * @throws IllegalStateException with a one-line reason naming {@code dir} when it cannot be made or is not private
     */
    public static Path prepare(Path dir, String envVar) {
        dir = dir.toAbsolutePath().normalize();
        try {
            Path missing = dir;
            while (missing.getParent() != null && !Files.exists(missing.getParent(), LinkOption.NOFOLLOW_LINKS)) {
                missing = missing.getParent();
            }
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                for (Path p = missing; ; p = p.resolve(dir.getName(p.getNameCount()))) {
                    try {
                        Files.createDirectory(p, PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
                    } catch (FileAlreadyExistsException raced) {
                        // made meanwhile by another process: checked below like any existing directory
                    }
                    if (p.equals(dir)) {
                        break;
                    }
                }
            }
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot keep " + dir + " private: its file system has no POSIX "
                    + "permissions; set " + envVar + " to a directory on one that has");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create " + dir + ": " + oneLine(e) + "; set " + envVar
                    + " to a directory of your own");
        }
        String problem = privacyProblem(dir, envVar);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dir + ": " + oneLine(e));
        }
    }

    /**
     * Why {@code dir} is not private (see the class), in one line naming it and {@code envVar}.
     *
     * @param dir    the directory
     * @param envVar the environment variable a user sets to choose another directory
     * @return the reason, or {@code null} when only this user (and root) can change what it holds
     */
    public static String privacyProblem(Path dir, String envVar) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            return "cannot read " + dir + ": " + oneLine(e);
        }
        int me = currentUid();
        try {
            if (!Files.isDirectory(real)) {
                return dir + " is not a directory; set " + envVar + " to a private directory";
            }
            Map<String, Object> attrs = Files.readAttributes(real, "unix:uid,mode");
            int uid = (Integer) attrs.get("uid");
            int mode = (Integer) attrs.get("mode");
            if (me >= 0 && uid != me) {
                return dir + " is not private: it belongs to uid " + uid + ", not to this user (uid " + me + "); set "
                        + envVar + " to a directory of your own";
            }
            if ((mode & 0022) != 0) {
                return dir + " is not private: writable by " + ((mode & 0002) != 0 ? "others" : "its group")
                        + " (mode " + Integer.toOctalString(mode & 07777) + "); set " + envVar
                        + " to a directory only you can write (or chmod 700 this one if it is meant to be yours alone)";
            }
            for (Path up = real.getParent(); up != null; up = up.getParent()) {
                Map<String, Object> a = Files.readAttributes(up, "unix:uid,mode");
                int upUid = (Integer) a.get("uid");
                int upMode = (Integer) a.get("mode");
                if (upUid != 0 && me >= 0 && upUid != me) {
                    return dir + " is not private: " + up + " above it belongs to uid " + upUid + "; set " + envVar
                            + " to a directory of your own";
                }
                if ((upMode & 0022) != 0 && (upMode & 01000) == 0) {
                    return dir + " is not private: " + up + " above it is writable by "
                            + ((upMode & 0002) != 0 ? "others" : "its group") + " (mode "
                            + Integer.toOctalString(upMode & 07777) + "); set " + envVar + " to a private directory";
                }
            }
            return null;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return "cannot check that " + dir + " is private: its file system has no Unix permissions; set " + envVar
                    + " to a directory on one that has";
        } catch (IOException e) {
            return "cannot check " + dir + ": " + oneLine(e);
        }
    }

    /**
     * This process's user id.
     *
     * @return the real uid from {@code /proc/self/status}, or -1 when unknown (the owner checks are then skipped)
     */
    public static int currentUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: unknown
        }
        return -1;
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage();
        return (m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m)
                .replaceAll("\\s+", " ");
    }
}
