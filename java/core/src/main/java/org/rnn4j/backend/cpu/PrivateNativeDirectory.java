package org.rnn4j.backend.cpu;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The directory JavaCPP extracts OpenBLAS's native libraries to, kept private to this user.
 *
 * <p>JavaCPP caches the libraries of a jar under {@code ~/.javacpp/cache} and, when it cannot use the home, under
 * {@code java.io.tmpdir + "/.javacpp-" + user.name}: a fixed name in a world-writable {@code /tmp} that another local
 * user could create first and fill, and JavaCPP loads a cached file whose size and date match without checking its
 * contents. So rnn4j names the directory itself ({@code org.bytedeco.javacpp.cachedir}, unless the program already set
 * it): {@value #DIR_ENV}{@code /javacpp}, else {@code $XDG_CACHE_HOME/rnn4j/native/javacpp}, else
 * {@code ~/.cache/rnn4j/native/javacpp} (the directory the CUDA backend keeps JCuda's libraries in, plus
 * {@code javacpp}), creates what is missing 0700, and refuses it unless only this user (and root) can change it.
 */
final class PrivateNativeDirectory {

    /** Environment variable naming the directory native libraries are extracted to (shared with the CUDA backend). */
    static final String DIR_ENV = "RNN4J_NATIVE_DIR";

    /** JavaCPP's system property for its cache directory. */
    static final String JAVACPP_CACHE_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private PrivateNativeDirectory() {
    }

    /** The directory for JavaCPP's cache from this environment, see the class. */
    static Path javacppCache(Map<String, String> env, String userHome) {
        String explicit = env.get(DIR_ENV);
        Path base;
        if (explicit != null && !explicit.isBlank()) {
            base = Path.of(explicit);
        } else {
            String xdg = env.get("XDG_CACHE_HOME");
            if (xdg != null && xdg.startsWith("/")) { // the XDG spec: a relative path is ignored
                base = Path.of(xdg, "rnn4j", "native");
            } else {
                String home = env.get("HOME");
                base = Path.of(home != null && home.startsWith("/") ? home : userHome, ".cache", "rnn4j", "native");
            }
        }
        return base.resolve("javacpp").toAbsolutePath().normalize();
    }

    /**
     * Creates {@code dir} where missing (each new level 0700) and checks it is private.
     *
     * @return the directory's real path
     * @throws IllegalStateException with a one-line reason when it cannot be made or is not private
     */
    static Path prepare(Path dir) {
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
            throw new IllegalStateException("the file system of " + dir + " has no POSIX permissions; set " + DIR_ENV
                    + " to a directory on one that has");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create " + dir + " (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); set " + DIR_ENV + " to a directory of your own");
        }
        String problem = privacyProblem(dir);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dir + ": " + e.getMessage());
        }
    }

    /**
     * Null when only this user (and root) can change what {@code dir} holds: it is this user's directory, not writable
     * by group or others, and every directory above belongs to this user or root and is not writable by others unless
     * sticky (as {@code /tmp}); else why not, in one line.
     */
    static String privacyProblem(Path dir) {
        try {
            Path real = dir.toRealPath();
            if (!Files.isDirectory(real)) {
                return dir + " is not a directory; set " + DIR_ENV + " to a private directory";
            }
            int me = currentUid();
            Map<String, Object> attrs = Files.readAttributes(real, "unix:uid,mode");
            int uid = (Integer) attrs.get("uid");
            int mode = (Integer) attrs.get("mode");
            if (me >= 0 && uid != me) {
                return dir + " is not private: it belongs to uid " + uid + ", not to this user (uid " + me + "); set "
                        + DIR_ENV + " to a directory of your own";
            }
            if ((mode & 0022) != 0) {
                return dir + " is not private: writable by " + ((mode & 0002) != 0 ? "others" : "its group")
                        + " (mode " + Integer.toOctalString(mode & 07777) + "); chmod 700 it or set " + DIR_ENV;
            }
            for (Path up = real.getParent(); up != null; up = up.getParent()) {
                Map<String, Object> a = Files.readAttributes(up, "unix:uid,mode");
                int upUid = (Integer) a.get("uid");
                int upMode = (Integer) a.get("mode");
                if (upUid != 0 && me >= 0 && upUid != me) {
                    return dir + " is not private: " + up + " above it belongs to uid " + upUid + "; set " + DIR_ENV
                            + " to a directory of your own";
                }
                if ((upMode & 0022) != 0 && (upMode & 01000) == 0) {
                    return dir + " is not private: " + up + " above it is writable by "
                            + ((upMode & 0002) != 0 ? "others" : "its group") + " (mode "
                            + Integer.toOctalString(upMode & 07777) + "); set " + DIR_ENV;
                }
            }
            return null;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return "cannot check that " + dir + " is private: its file system has no Unix permissions; set " + DIR_ENV;
        } catch (IOException e) {
            return "cannot check " + dir + ": " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** This process's uid from {@code /proc/self/status}, or -1 when unknown (the owner checks are then skipped). */
    static int currentUid() {
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
}
