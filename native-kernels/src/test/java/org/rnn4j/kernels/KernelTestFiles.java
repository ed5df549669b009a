package org.rnn4j.kernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the module's sources are, for tests that read them (Surefire sets rnn4j.kernels.basedir). */
final class KernelTestFiles {

    private KernelTestFiles() {
    }

    static Path basedir() {
        String configured = System.getProperty("rnn4j.kernels.basedir");
        Path dir = configured != null ? Paths.get(configured) : Paths.get("").toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("build-kernels.sh"))) {
            // Run from the repository root rather than the module.
            dir = dir.resolve("native-kernels");
        }
        if (!Files.isRegularFile(dir.resolve("build-kernels.sh"))) {
            throw new IllegalStateException("cannot find native-kernels/ (set -Drnn4j.kernels.basedir)");
        }
        return dir;
    }

    static Path cudaSources() {
        return basedir().resolve("src/main/cuda");
    }
}
