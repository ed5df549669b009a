package org.rnn4j.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output file that appears whole or not at all: written to a temporary file beside the target and moved over it
 * by {@link #commit()}. Closing without committing deletes the temporary file, so a failed run never truncates or
 * half-writes what an earlier run saved. Opening checks that the target can be written, so that a bad path is
 * reported before any work is done.
 */
public final class AtomicFile implements AutoCloseable {

    /** The target cannot be written; the message says why, naming the option and the path. */
    public static final class UnwritableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnwritableException(String message) {
            super(message);
        }
    }

    private final Path target;
    private final Path temp;
    private final BufferedWriter writer;
    private boolean done;

    private AtomicFile(Path target, Path temp, BufferedWriter writer) {
        this.target = target;
        this.temp = temp;
        this.writer = writer;
    }

    /**
     * Opens {@code target} for writing.
     *
     * @param option the command-line option that named the file, for the error message
     */
    public static AtomicFile open(Path target, String option) throws UnwritableException {
        String what = option + ": cannot write '" + target + "': ";
        Path absolute = target.toAbsolutePath().normalize();
        if (Files.isDirectory(absolute)) {
            throw new UnwritableException(what + "it is a directory");
        }
        Path parent = absolute.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new UnwritableException(what + "no such directory '" + parent + "'");
        }
        if (Files.exists(absolute) && !Files.isWritable(absolute)) {
            throw new UnwritableException(what + "permission denied");
        }
        Path temp = null;
        try {
            temp = Files.createTempFile(parent, "." + absolute.getFileName() + ".", ".tmp");
            return new AtomicFile(absolute, temp, Files.newBufferedWriter(temp, StandardCharsets.UTF_8));
        } catch (IOException | SecurityException e) {
            deleteQuietly(temp);
            String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString();
            throw new UnwritableException(what + reason);
        }
    }

    public Path target() {
        return target;
    }

    public Writer writer() {
        return writer;
    }

    /** Writes one line. */
    public void println(String line) {
        try {
            writer.write(line);
            writer.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Flushes, closes and moves the file into place, replacing what was there. */
    public void commit() throws IOException {
        if (done) {
            return;
        }
        writer.close();
        try {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        done = true;
    }

    /** Discards the output unless it was committed. */
    @Override
    public void close() {
        if (!done) {
            done = true;
            try {
                writer.close();
            } catch (IOException ignored) {
                // the file is being discarded anyway
            }
            deleteQuietly(temp);
        }
    }

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // nothing more to do: it is only a temporary file
            }
        }
    }
}
