package org.rnn4j.io;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's one safe way to write an output file: the file appears whole or not at all, and nothing but the
 * target is ever replaced.
 *
 * <pre>{@code
 * try (AtomicFile f = AtomicFile.open(path, "--trace")) {
 *     f.println(line);          // text (UTF-8); or write bytes to f.stream()
 *     f.commit();               // only when everything was written
 * }                             // closing without commit discards the output
 * }</pre>
 *
 * <p>{@link #open} accepts a regular file, which is replaced and keeps its permissions; a new path in an existing
 * directory, created as any program creates a file (mode {@code 0666} less the umask); or a symbolic link to either,
 * which is written through: its final target is replaced and the link is left in place. Anything else (a directory,
 * FIFO, device or socket) is refused, as is a path whose directory is missing or cannot be written; the refusal is
 * one line naming the option and the user's path, thrown before any work is done.
 *
 * <p>The output goes to a temporary file {@code .NAME.rnn4j-PID-RANDOM.tmp} in the target's directory;
 * {@link #commit} flushes it, fsyncs it, renames it over the target and fsyncs the directory. The temporary file is
 * deleted by {@link #close} without a commit, by a shutdown hook when the JVM is interrupted (SIGINT, SIGTERM), and,
 * after a process was killed outright, by the next {@code open} in that directory once that process is gone
 * (another run's temporary files are never touched while it lives).
 *
 * <p>Replacing by rename gives the target a new file: other hard links to the old one keep the old content. One
 * instance is meant for one thread.
 */
public final class AtomicFile implements AutoCloseable {

    /** The target cannot be written; the message says why, naming the option and the path. */
    public static final class UnwritableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnwritableException(String message) {
            super(message);
        }
    }

    /**
     * The points of a save where a test can inject a fault ({@link #injectFaults}): while the content is written,
     * after it is flushed but before the fsync, after the fsync but before the rename, and after the rename (before
     * the directory's fsync).
     */
    public enum Stage {
        /** While the content is written (at every write call). */
        WRITE,
        /** After the content is flushed, before the file's fsync. */
        BEFORE_FSYNC,
        /** After the fsync, before the rename over the target. */
        BEFORE_RENAME,
        /** After the rename, before the directory's fsync. */
        AFTER_RENAME
    }

    /** A test's hook into every save: called at each {@link Stage}; an {@link IOException} makes the save fail there. */
    @FunctionalInterface
    public interface FaultInjector {
        /**
         * @param stage  where the save is
         * @param target the file being saved, as the user named it
         * @throws IOException to make the save fail at this point
         */
        void at(Stage stage, Path target) throws IOException;
    }

    private static volatile FaultInjector faults;

    private static final long PID = ProcessHandle.current().pid();
    private static final Pattern TEMPORARY = Pattern.compile("\\..*\\.rnn4j-(\\d{1,18})-[0-9a-z]+\\.tmp");
    private static final int MAX_LINKS = 40;
    private static final int MAX_NAME_CHARS = 50;
    private static final int S_IFMT = 0170000;

    /** Temporary files not yet committed or discarded, deleted by the shutdown hook. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    private static boolean hooked;

    private final Path target;
    private final String option;
    private final Path resolved;
    private final Object fileKey;
    private final Path temp;
    private final FileChannel channel;
    private final OutputStream stream;
    private final FaultInjector injector;
    private BufferedWriter writer;
    private boolean streamUsed;
    private boolean done;

    private AtomicFile(Path target, String option, Path resolved, Object fileKey, Path temp, FileChannel channel) {
        this.target = target;
        this.option = option;
        this.resolved = resolved;
        this.fileKey = fileKey;
        this.temp = temp;
        this.channel = channel;
        this.injector = faults;
        OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        this.stream = injector == null ? buffered : new FilterOutputStream(buffered) {
            @Override
            public void write(int b) throws IOException {
                injector.at(Stage.WRITE, target);
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                injector.at(Stage.WRITE, target);
                out.write(b, off, len);
            }
        };
    }

    /**
     * For tests only: calls {@code injector} at every {@link Stage} of the saves of files opened from now on, so a
     * test can fail a save at each point (or look at the file system as a kill at that point would leave it).
     *
     * @param injector the hook, or null to remove it
     */
    public static void injectFaults(FaultInjector injector) {
        faults = injector;
    }

    private void fault(Stage stage) throws IOException {
        if (injector != null) {
            injector.at(stage, target);
        }
    }

    /**
     * Opens {@code target} for writing, as described above.
     *
     * @param target the path the user gave (relative paths are resolved against the working directory)
     * @param option what named the file, such as the command-line option {@code "--trace"}: messages start with it
     * @throws UnwritableException when the target is not a regular file, a new path or a link to either, or its
     *         directory cannot take a new file
     * @return the open file; {@link #commit} it, and close it in every case
     */
    public static AtomicFile open(Path target, String option) throws UnwritableException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(option, "option");
        String what = option + ": cannot write '" + target + "': ";
        Path absolute = target.toAbsolutePath();
        Path resolved;
        Path directory;
        PosixFileAttributes existing = null;
        Object fileKey = null;
        try {
            BasicFileAttributes attributes = attributesOrNull(absolute, true);
            if (attributes != null) {
                if (!attributes.isRegularFile()) {
                    throw new UnwritableException(what + "it is " + kind(absolute, attributes) + ", not a regular "
                            + "file; give a file name");
                }
                resolved = absolute.toRealPath();
                directory = resolved.getParent();
                fileKey = attributes.fileKey();
                if (!Files.isWritable(resolved)) {
                    throw new UnwritableException(what + "permission denied");
                }
                existing = posixAttributesOrNull(resolved);
            } else {
                Path path = followDanglingLinks(absolute, what);
                Path parent = path.getParent();
                try {
                    directory = parent == null ? null : parent.toRealPath();
                } catch (NoSuchFileException e) {
                    directory = null;
                }
                if (directory == null || !Files.isDirectory(directory)) {
                    throw new UnwritableException(what + "no such directory '" + parent + "'");
                }
                resolved = directory.resolve(path.getFileName());
            }
        } catch (IOException | SecurityException e) {
            throw new UnwritableException(what + reason(e));
        }

        removeStaleTemporaries(directory);
        Path temp = null;
        FileChannel channel = null;
        try {
            for (int attempt = 0; channel == null; attempt++) {
                temp = directory.resolve(temporaryName(resolved.getFileName().toString()));
                registerForShutdown(temp);
                try {
                    channel = create(temp, existing);
                } catch (FileAlreadyExistsException e) {
                    PENDING.remove(temp);
                    temp = null; // not ours: never delete it
                    if (attempt == 10) {
                        throw e;
                    }
                }
            }
            lockQuietly(channel);
            return new AtomicFile(target, option, resolved, fileKey, temp, channel);
        } catch (IOException | SecurityException e) {
            closeQuietly(channel);
            if (temp != null) {
                deleteQuietly(temp);
                PENDING.remove(temp);
            }
            throw new UnwritableException(what + "cannot create a file in '" + directory + "': " + reason(e));
        }
    }

    /**
     * The target.
     *
     * @return the path as the user gave it
     */
    public Path target() {
        return target;
    }

    /**
     * Whether this and {@code other} would write one file: the same path however spelt, through symbolic links, or
     * another hard link to the same existing file.
     *
     * @param other another open file
     * @return true when both would write one file
     */
    public boolean writesSameFileAs(AtomicFile other) {
        return resolved.equals(other.resolved) || (fileKey != null && fileKey.equals(other.fileKey));
    }

    /**
     * The output as bytes. Use either this or the text methods ({@link #writer()}, {@link #println}), not both.
     *
     * @return a buffered stream; {@link #commit} flushes it
     */
    public OutputStream stream() {
        if (writer != null) {
            throw new IllegalStateException(option + ": this file is being written as text");
        }
        streamUsed = true;
        return stream;
    }

    /**
     * The output as UTF-8 text. Use either this (or {@link #println}) or {@link #stream()}, not both.
     *
     * @return a buffered writer; {@link #commit} flushes it
     */
    public Writer writer() {
        if (streamUsed) {
            throw new IllegalStateException(option + ": this file is being written as bytes");
        }
        if (writer == null) {
            writer = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8));
        }
        return writer;
    }

    /**
     * Writes one line of text and a newline.
     *
     * @param line the text, without its newline
     * @throws UncheckedIOException when it cannot be written (a full disk), naming the option and the user's path
     */
    public void println(String line) {
        try {
            Writer w = writer();
            w.write(line);
            w.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(option + ": cannot write '" + target + "': " + reason(e), e);
        }
    }

    /**
     * Makes the output the target's content, durably: flushes and fsyncs the temporary file, renames it over the
     * target and fsyncs the directory. If it fails the temporary file is deleted and the target is left as it was
     * (unless only the directory's fsync failed, after the rename). Does nothing the second time.
     *
     * @throws IOException whose message names the option and the user's path
     */
    public void commit() throws IOException {
        if (done) {
            return;
        }
        boolean renamed = false;
        try {
            if (writer != null) {
                writer.flush();
            }
            stream.flush();
            fault(Stage.BEFORE_FSYNC);
            channel.force(true);
            stream.close();
            fault(Stage.BEFORE_RENAME);
            Files.move(temp, resolved, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            renamed = true;
            done = true;
            PENDING.remove(temp);
            fault(Stage.AFTER_RENAME);
            try (FileChannel dir = FileChannel.open(resolved.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            if (!renamed) {
                close();
            }
            throw new IOException(option + ": cannot save '" + target + "': "
                    + (renamed ? "written, but its directory could not be synced: " : "") + reason(e), e);
        }
    }

    /** Discards the output unless it was committed. */
    @Override
    public void close() {
        if (!done) {
            done = true;
            closeQuietly(channel);
            deleteQuietly(temp);
            PENDING.remove(temp);
        }
    }

    // ------------------------------------------------------------------------------------------------ opening

    private static BasicFileAttributes attributesOrNull(Path path, boolean follow) throws IOException {
        try {
            return follow ? Files.readAttributes(path, BasicFileAttributes.class)
                    : Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static PosixFileAttributes posixAttributesOrNull(Path path) throws IOException {
        try {
            return Files.readAttributes(path, PosixFileAttributes.class);
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** Where a path that does not exist (following links) would be created: the end of its chain of links. */
    private static Path followDanglingLinks(Path path, String what) throws IOException, UnwritableException {
        Path p = path;
        for (int hops = 0; ; hops++) {
            BasicFileAttributes a = attributesOrNull(p, false);
            if (a == null || !a.isSymbolicLink()) {
                return p;
            }
            if (hops == MAX_LINKS) {
                throw new UnwritableException(what + "too many levels of symbolic links");
            }
            p = p.resolveSibling(Files.readSymbolicLink(p));
        }
    }

    /** What a file that is not a regular file is, for the message. */
    private static String kind(Path path, BasicFileAttributes attributes) {
        if (attributes.isDirectory()) {
            return "a directory";
        }
        try {
            switch ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) {
                case 0010000: return "a FIFO (named pipe)";
                case 0020000: return "a character device";
                case 0060000: return "a block device";
                case 0140000: return "a socket";
                default: break;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            // fall through to the general description
        }
        return "a special file";
    }

    private static String temporaryName(String name) {
        String shortName = name;
        if (shortName.length() > MAX_NAME_CHARS) {
            int end = MAX_NAME_CHARS;
            if (Character.isHighSurrogate(shortName.charAt(end - 1))) {
                end--;
            }
            shortName = shortName.substring(0, end);
        }
        long random = ThreadLocalRandom.current().nextLong() >>> 1;
        return "." + shortName + ".rnn4j-" + PID + "-" + Long.toString(random, 36) + ".tmp";
    }

    /**
     * Creates the temporary file: as a new file is created (the umask applies), or, replacing an existing file, with
     * that file's permissions (and, where allowed, its owner and group) before anything is written to it.
     */
    private static FileChannel create(Path temp, PosixFileAttributes existing) throws IOException {
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        if (existing == null) {
            return FileChannel.open(temp, options);
        }
        Set<PosixFilePermission> permissions = existing.permissions();
        FileAttribute<?> mode = PosixFilePermissions.asFileAttribute(permissions);
        FileChannel channel = FileChannel.open(temp, options, mode);
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class);
            PosixFileAttributes mine = view.readAttributes();
            try {
                if (!mine.owner().equals(existing.owner())) {
                    view.setOwner(existing.owner());
                }
                if (!mine.group().equals(existing.group())) {
                    view.setGroup(existing.group());
                }
            } catch (IOException ignored) {
                // only a privileged process may give a file away; the file stays ours
            }
            view.setPermissions(permissions);
            return channel;
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** Marks the temporary file as in use, for {@link #removeStaleTemporaries} run by a process that cannot see us. */
    private static void lockQuietly(FileChannel channel) {
        try {
            channel.tryLock();
        } catch (IOException | OverlappingFileLockException | UnsupportedOperationException ignored) {
            // the PID in the name is the main guard; the lock only covers a process in another PID namespace
        }
    }

    /**
     * Deletes the temporary files of this naming in {@code directory} whose process is gone and which no process
     * holds locked. Best effort: whatever cannot be checked is kept.
     */
    private static void removeStaleTemporaries(Path directory) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, ".*.tmp")) {
            for (Path file : files) {
                Matcher m = TEMPORARY.matcher(file.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid = Long.parseLong(m.group(1));
                if (pid == PID || ProcessHandle.of(pid).isPresent()
                        || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || lockedByAnother(file)) {
                    continue;
                }
                deleteQuietly(file);
            }
        } catch (IOException | DirectoryIteratorException | SecurityException ignored) {
            // cleaning up after other runs is best effort
        }
    }

    private static boolean lockedByAnother(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (IOException | OverlappingFileLockException | UnsupportedOperationException e) {
            return true;
        }
    }

    private static void registerForShutdown(Path temp) {
        synchronized (PENDING) {
            if (!hooked) {
                hooked = true;
                try {
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> PENDING.forEach(AtomicFile::deleteQuietly),
                            "rnn4j-temporary-files"));
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down
                }
            }
        }
        PENDING.add(temp);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** The reason of an I/O failure, without the exception's class or the temporary file's name. */
    private static String reason(Exception e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
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
