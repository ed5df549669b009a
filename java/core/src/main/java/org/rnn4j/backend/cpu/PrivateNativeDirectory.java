package org.rnn4j.backend.cpu;

import java.nio.file.Path;
import java.util.Map;
import org.rnn4j.io.PrivateDirectory;

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
     * Creates {@code dir} where missing (each new level 0700) and checks it is private ({@link PrivateDirectory}).
     *
     * @return the directory's real path
     * @throws IllegalStateException with a one-line reason when it cannot be made or is not private
     */
    static Path prepare(Path dir) {
        return PrivateDirectory.prepare(dir, DIR_ENV);
    }

    /** Null when {@code dir} is private, else why not, in one line ({@link PrivateDirectory#privacyProblem}). */
    static String privacyProblem(Path dir) {
        return PrivateDirectory.privacyProblem(dir, DIR_ENV);
    }
}
