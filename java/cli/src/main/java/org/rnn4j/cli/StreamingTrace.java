package org.rnn4j.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A trace written as it goes, for long runs ({@code train charlm --trace}): the file is emptied when the run starts
 * (so it never mixes with an earlier run's lines) and each line is flushed as soon as it is written, so a crash or a
 * kill keeps every line written before it. Unlike the other commands' traces it is therefore not replaced atomically:
 * a run that stops early leaves the lines of the updates it did. A symbolic link is written through; a directory,
 * FIFO or device is refused, before any work.
 */
final class StreamingTrace implements AutoCloseable {

    private final Path path;
    private final BufferedWriter writer;

    private StreamingTrace(Path path, BufferedWriter writer) {
        this.path = path;
        this.writer = writer;
    }

    /**
     * Checks that {@code path} can be written as a trace, without touching it.
     *
     * @param path the file
     * @param option the option that named it, for the message
     * @throws UsageException naming the option and the problem
     */
    static void check(Path path, String option) {
        String what = option + ": cannot write '" + path + "': ";
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new UsageException(what + (a.isDirectory() ? "it is a directory" : "it is not a regular file")
                        + "; give a file name");
            }
            if (!Files.isWritable(path)) {
                throw new UsageException(what + "permission denied");
            }
        } catch (NoSuchFileException e) {
            Path parent = path.toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new UsageException(what + "no such directory '" + parent + "'");
            }
            if (!Files.isWritable(parent)) {
                throw new UsageException(what + "permission denied");
            }
        } catch (IOException e) {
            throw new UsageException(what + e.getMessage());
        }
    }

    /**
     * Opens the trace, emptying it.
     *
     * @param path the file (checked with {@link #check} first)
     * @param option the option that named it
     * @return the open trace
     * @throws UsageException when it cannot be opened after all
     */
    static StreamingTrace open(Path path, String option) {
        try {
            return new StreamingTrace(path, Files.newBufferedWriter(path, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
        } catch (IOException e) {
            throw new UsageException(option + ": cannot write '" + path + "': " + e.getMessage());
        }
    }

    /**
     * Writes one line and flushes it to the operating system.
     *
     * @param line the line, without its newline
     */
    void println(String line) {
        try {
            writer.write(line);
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("--trace: cannot write '" + path + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException("--trace: cannot write '" + path + "': " + e.getMessage(), e);
        }
    }
}
