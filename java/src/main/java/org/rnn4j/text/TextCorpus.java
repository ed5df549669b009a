package org.rnn4j.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A training text read from a file or a directory, as code points.
 *
 * <p><b>A file</b> is decoded as strict UTF-8: malformed or truncated sequences, overlong forms, encoded surrogates
 * and values above U+10FFFF are errors (naming the byte offset); nothing is translated (CR LF stays CR LF, a byte-order
 * mark stays U+FEFF at the start of the text).
 *
 * <p><b>A directory</b> is read recursively: its regular files, skipping symbolic links (to files or directories) and
 * every entry whose name starts with a dot, at any depth (a dot-directory is not entered). The files are taken in the
 * order of their paths relative to the directory ({@code sub/name.txt}, separator {@code /}) compared as UTF-8 bytes,
 * and concatenated. A file that is not valid UTF-8 is skipped, with one warning line to the listener; so is an entry
 * that is neither a regular file, a directory nor a link (a FIFO, a socket, a device). An entry that cannot be read
 * is an error.
 *
 * <p>The SHA-256 of the bytes used (the concatenation of the files kept, in order) identifies the text, for example
 * in a checkpoint. A text with no characters is an error. File names are turned into strings by the JVM, which
 * needs a UTF-8 locale ({@code sun.jnu.encoding}) to order non-ASCII names as bytes.
 */
public final class TextCorpus {

    private final int[] codePoints;
    private final String sha256;
    private final long byteCount;
    private final List<String> files;

    private TextCorpus(int[] codePoints, String sha256, long byteCount, List<String> files) {
        this.codePoints = codePoints;
        this.sha256 = sha256;
        this.byteCount = byteCount;
        this.files = files;
    }

    /**
     * Reads a text file or a directory of them, as described above.
     *
     * @param path a file or a directory (a symbolic link given here is followed)
     * @param warnings receives one line for each file skipped (not valid UTF-8, not a regular file)
     * @return the text
     * @throws TextCorpusException when the path is missing or unreadable, a single file is not UTF-8, or there is no
     *         text; one line naming the path
     */
    public static TextCorpus read(Path path, Consumer<String> warnings) throws TextCorpusException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(warnings, "warnings");
        BasicFileAttributes root;
        try {
            root = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new TextCorpusException("cannot read '" + path + "': " + reason(e), e);
        }
        MessageDigest digest = newSha256();
        IntList text = new IntList();
        List<String> used = new ArrayList<>();
        long bytes = 0;
        if (root.isRegularFile()) {
            byte[] content = readFile(path, path.toString());
            int bad = decode(content, text);
            if (bad >= 0) {
                throw new TextCorpusException("'" + path + "' is not valid UTF-8 text (at byte " + bad + ")");
            }
            digest.update(content);
            bytes = content.length;
            used.add(path.getFileName() == null ? path.toString() : path.getFileName().toString());
        } else if (root.isDirectory()) {
            for (Path relative : listFiles(path, warnings)) {
                Path file = path.resolve(relative);
                String shown = path.resolve(relative).toString();
                byte[] content = readFile(file, shown);
                int before = text.size();
                int bad = decode(content, text);
                if (bad >= 0) {
                    text.truncate(before);
                    warnings.accept("skipping '" + shown + "': not valid UTF-8 text (at byte " + bad + ")");
                    continue;
                }
                digest.update(content);
                bytes += content.length;
                used.add(slashes(relative));
            }
            if (text.size() == 0) {
                throw new TextCorpusException("'" + path + "' holds no text: "
                        + (used.isEmpty() ? "no readable UTF-8 file in it (dot-files and links are not read)"
                                : "its " + used.size() + " UTF-8 file" + (used.size() == 1 ? " is" : "s are")
                                        + " empty"));
            }
        } else {
            throw new TextCorpusException("cannot read '" + path + "': it is neither a file nor a directory");
        }
        if (text.size() == 0) {
            throw new TextCorpusException("'" + path + "' is empty: there is no text to train on");
        }
        return new TextCorpus(text.toArray(), HexFormat.of().formatHex(digest.digest()), bytes, List.copyOf(used));
    }

    /**
     * The text.
     *
     * @return a copy of its code points
     */
    public int[] codePoints() {
        return codePoints.clone();
    }

    /**
     * The number of characters.
     *
     * @return the code point count
     */
    public int length() {
        return codePoints.length;
    }

    /**
     * The SHA-256 of the bytes used, for checkpoint metadata.
     *
     * @return 64 lowercase hexadecimal digits
     */
    public String sha256() {
        return sha256;
    }

    /**
     * The size of the bytes used.
     *
     * @return bytes
     */
    public long byteCount() {
        return byteCount;
    }

    /**
     * The files used, in order: for a directory their paths relative to it (separator {@code /}), for a single
     * file its name.
     *
     * @return an unmodifiable list
     */
    public List<String> files() {
        return files;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** The regular files under {@code root} to read, relative to it, in UTF-8 byte order of their relative paths. */
    private static List<Path> listFiles(Path given, Consumer<String> warnings) throws TextCorpusException {
        List<Path> found = new ArrayList<>();
        try {
            Path root = given.toRealPath(); // the path given may be a link; links inside it are not followed
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(root) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (hidden(file) || attrs.isSymbolicLink()) {
                        return FileVisitResult.CONTINUE;
                    }
                    if (attrs.isRegularFile()) {
                        found.add(root.relativize(file));
                    } else {
                        warnings.accept("skipping '" + given.resolve(root.relativize(file)) + "': not a regular "
                                + "file");
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (hidden(file)) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw new Unreadable(given.resolve(root.relativize(file)), e);
                }
            });
        } catch (Unreadable e) {
            throw new TextCorpusException("cannot read '" + e.path + "': " + reason((IOException) e.getCause()), e);
        } catch (IOException e) {
            throw new TextCorpusException("cannot read '" + given + "': " + reason(e), e);
        }
        found.sort(Comparator.comparing(p -> slashes(p).getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        return found;
    }

    /** An entry of the directory that cannot be read, under the name the user would know it by. */
    private static final class Unreadable extends IOException {
        private static final long serialVersionUID = 1L;
        final transient Path path;

        Unreadable(Path path, IOException cause) {
            super(cause);
            this.path = path;
        }
    }

    private static boolean hidden(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    private static String slashes(Path relative) {
        String s = relative.toString();
        String separator = relative.getFileSystem().getSeparator();
        return separator.equals("/") ? s : s.replace(separator, "/");
    }

    private static byte[] readFile(Path file, String shown) throws TextCorpusException {
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) {
                throw new TextCorpusException("'" + shown + "' is " + size + " bytes, more than one text file may "
                        + "be here (2 GiB)");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TextCorpusException("cannot read '" + shown + "': " + reason(e), e);
        }
    }

    /**
     * Appends the code points of strict UTF-8 {@code bytes} to {@code out}.
     *
     * @return -1, or the byte offset of the first malformed sequence (then {@code out} holds a partial decoding)
     */
    private static int decode(byte[] bytes, IntList out) throws TextCorpusException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer chars = CharBuffer.allocate(Math.min(bytes.length, 1 << 16) + 1);
        while (true) {
            CoderResult r = decoder.decode(in, chars, true);
            if (r.isError()) {
                return in.position();
            }
            chars.flip();
            // a surrogate pair split across two chunks: keep the high half for the next round
            int limit = chars.limit();
            if (limit > 0 && Character.isHighSurrogate(chars.get(limit - 1)) && r.isOverflow()) {
                limit--;
            }
            for (int i = 0; i < limit; ) {
                int cp = Character.codePointAt(chars, i);
                out.add(cp);
                i += Character.charCount(cp);
            }
            chars.position(limit);
            chars.compact();
            if (r.isUnderflow()) {
                break;
            }
        }
        CoderResult r = decoder.flush(chars);
        if (r.isError()) {
            return in.position();
        }
        return -1;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static String reason(IOException e) {
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

    /** A growable int array. */
    private static final class IntList {
        private int[] a = new int[1024];
        private int n;

        void add(int v) throws TextCorpusException {
            if (n == a.length) {
                if (n >= Integer.MAX_VALUE - 8) {
                    throw new TextCorpusException("the text has more than " + n + " characters, more than can be "
                            + "held here");
                }
                a = Arrays.copyOf(a, (int) Math.min(Integer.MAX_VALUE - 8L, 2L * n));
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        void truncate(int size) {
            n = size;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
