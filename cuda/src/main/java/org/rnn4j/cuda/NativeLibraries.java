package org.rnn4j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import org.rnn4j.io.PrivateDirectory;

/**
 * Where JCuda's JNI libraries are loaded from.
 *
 * <p>JCuda's {@code LibUtils} first tries {@code System.loadLibrary} (the {@code java.library.path}); failing that it
 * extracts {@code /lib/libNAME.so} from its jar to {@code java.io.tmpdir + "/" + libNAME.so} and loads it, and when a
 * file of that name already exists it loads that file unchecked. In a shared {@code /tmp} any local user could plant a
 * library there that every rnn4j process would then run, and a stale copy from another build would be loaded silently;
 * a {@code noexec} {@code /tmp} makes CUDA look missing.
 *
 * <p>So before JCuda's first use, rnn4j extracts each library itself into a directory only this user can write
 * ({@value #DIR_ENV}, else {@code $XDG_CACHE_HOME/rnn4j/native}, else {@code ~/.cache/rnn4j/native}; created 0700),
 * checks the file there against the jar's resource (size and SHA-256; rewritten when it differs), and points
 * {@code java.io.tmpdir} at that directory only while the JCuda class initialises: JCuda then finds the verified file
 * and loads exactly it. Anything wrong becomes a {@link Problem} with a one-line message.
 */
final class NativeLibraries {

    /** Environment variable naming the directory JCuda's libraries are extracted to. */
    static final String DIR_ENV = "RNN4J_NATIVE_DIR";
    /** JCuda's driver-API binding, {@code jcuda.driver.JCudaDriver}. */
    static final String DRIVER = "JCudaDriver";
    /** JCuda's cuBLAS binding, {@code jcuda.jcublas.JCublas2}. */
    static final String CUBLAS = "JCublas2";

    /** Why the native libraries cannot be used; the message is one line. */
    static final class Problem extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Problem(String message) {
            super(message);
        }
    }

    private NativeLibraries() {
    }

    /** The directory to use: {@value #DIR_ENV}, else {@code $XDG_CACHE_HOME/rnn4j/native}, else under the home. */
    static Path directory(Map<String, String> env, String userHome) {
        String explicit = env.get(DIR_ENV);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath().normalize();
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && xdg.startsWith("/")) { // the XDG spec: a relative path is ignored
            return Path.of(xdg, "rnn4j", "native").normalize();
        }
        String home = env.get("HOME");
        if (home == null || !home.startsWith("/")) {
            home = userHome;
        }
        return Path.of(home, ".cache", "rnn4j", "native").toAbsolutePath().normalize();
    }

    /** {@link #directory(Map, String)} for this process. */
    static Path directory() {
        return directory(System.getenv(), System.getProperty("user.home"));
    }

    /** {@code libNAME-12.6.0-linux-x86_64.so}: the file JCuda extracts and loads for {@code library}. */
    static String fileName(String library) {
        return LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName(library + "-" + JCudaVersion.get()));
    }

    /**
     * Creates {@code dir} when missing (each missing level 0700) and checks that only this user can write it
     * ({@link PrivateDirectory}, the rule every directory rnn4j loads native code from follows).
     *
     * @return the directory's real path
     * @throws Problem when it cannot be created or is not private
     */
    static Path prepareDirectory(Path dir) {
        try {
            return PrivateDirectory.prepare(dir, DIR_ENV);
        } catch (IllegalStateException e) {
            throw new Problem("the native library directory: " + e.getMessage());
        }
    }

    /** Null when only this user (and root) can change what {@code dir} holds, else why not, in one line. */
    static String privacyProblem(Path dir) {
        String p = PrivateDirectory.privacyProblem(dir, DIR_ENV);
        return p == null ? null : "the native library directory: " + p;
    }

    /**
     * Makes {@code dir/libNAME.so} exactly the jar's resource: checks the file there (a regular file of this user's,
     * not writable by others, of the resource's size and SHA-256) and rewrites it (a new file, renamed over the old
     * name) when anything differs.
     *
     * @param dir a directory from {@link #prepareDirectory}
     * @return the verified file
     * @throws Problem when the jar lacks the library or it cannot be written
     */
    static Path extract(Path dir, String library) {
        String name = fileName(library);
        byte[] want;
        try (InputStream in = LibUtils.class.getResourceAsStream("/lib/" + name)) {
            if (in == null) {
                throw new Problem("JCuda's native library " + name + " is not in rnn4j's jar (lib/" + name
                        + "): this platform (" + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                        + ") is not supported by this build");
            }
            want = in.readAllBytes();
        } catch (IOException e) {
            throw new Problem("cannot read lib/" + name + " from rnn4j's jar: " + oneLine(e));
        }
        Path file = dir.resolve(name);
        byte[] wantHash = sha256(want);
        if (matches(file, want.length, wantHash)) {
            return file;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + name + ".", ".tmp", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Files.write(tmp, want);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new Problem("cannot write JCuda's native library to " + file + ": " + oneLine(e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a leftover .tmp in the private directory is harmless
                }
            }
        }
        if (!matches(file, want.length, wantHash)) {
            throw new Problem("JCuda's native library " + file + " does not match rnn4j's jar even after rewriting it");
        }
        return file;
    }

    private static boolean matches(Path file, long size, byte[] hash) {
        try {
            PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile() || a.size() != size) {
                return false;
            }
            int me = currentUid();
            Map<String, Object> u = Files.readAttributes(file, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            if ((me >= 0 && (Integer) u.get("uid") != me) || ((Integer) u.get("mode") & 0022) != 0) {
                return false;
            }
            return Arrays.equals(hash, sha256(Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Runs {@code firstUse}, the first touch of a JCuda class that loads {@code library}, so that JCuda loads the
     * verified copy in {@code dir}: extracts it there, then sets {@code java.io.tmpdir} to {@code dir} for the
     * duration of {@code firstUse} only. Whatever {@code firstUse} throws (a {@link LinkageError} when a library
     * JCuda's needs, such as {@code libcuda.so.1}, is missing) reaches the caller.
     *
     * @throws Problem when the library cannot be put in place
     */
    static synchronized void load(Path dir, String library, Runnable firstUse) {
        extract(dir, library);
        String saved = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", dir.toString());
        try {
            firstUse.run();
        } finally {
            if (saved == null) {
                System.clearProperty("java.io.tmpdir");
            } else {
                System.setProperty("java.io.tmpdir", saved);
            }
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static Integer uid;

    /** This process's effective uid (Linux {@code /proc/self/status}, else the owner of a new file); -1 if unknown. */
    static synchronized int currentUid() {
        if (uid == null) {
            uid = -1;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("Uid:")) {
                        uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                try {
                    Path probe = Files.createTempFile("rnn4j-uid", ".tmp");
                    try {
                        uid = (Integer) Files.getAttribute(probe, "unix:uid");
                    } finally {
                        Files.deleteIfExists(probe);
                    }
                } catch (IOException | RuntimeException ignored) {
                    // unknown: the owner checks are skipped, the permission checks still apply
                }
            }
        }
        return uid;
    }

    private static String octal(int mode) {
        return String.format(Locale.ROOT, "%04o", mode & 07777);
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage();
        String text = e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        return text.replace('\n', ' ');
    }
}
