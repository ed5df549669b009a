package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where JCuda's JNI libraries come from. JCuda on its own extracts them into {@code java.io.tmpdir} under fixed names
 * and loads whatever file already has that name; rnn4j extracts them into a private directory, checks them against
 * the jar, and makes JCuda load those.
 */
class NativeLibrariesTest {

    static String fileName(String library) {
        return LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName(library + "-" + JCudaVersion.get()));
    }

    /** A real shared library that loads anywhere (no JNI_OnLoad, needs only libc): a stand-in for a planted one. */
    private static Path loadableLibrary() {
        Path lib = Path.of(System.getProperty("java.home"), "lib", "libsyslookup.so");
        assumeTrue(Files.isRegularFile(lib), "no " + lib + " to plant");
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "no /proc/self/maps to see what is loaded");
        return lib;
    }

    record Child(int code, List<String> lines) {
        List<String> mapped() {
            List<String> m = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith("mapped ")) {
                    m.add(l.substring(7));
                }
            }
            return m;
        }
    }

    /** Runs {@link NativeLoadChild} with the given {@code java.io.tmpdir} and private directory. */
    static Child child(String mode, Path tmpdir, Path nativeDir) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Djava.io.tmpdir=" + tmpdir, "-cp",
                System.getProperty("java.class.path"), NativeLoadChild.class.getName(), mode);
        pb.environment().remove("RNN4J_NATIVE_DIR");
        if (nativeDir != null) {
            pb.environment().put("RNN4J_NATIVE_DIR", nativeDir.toString());
        }
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        return new Child(p.exitValue(), out.lines().toList());
    }

    @Test
    void aLibraryPlantedInTheTemporaryDirectoryIsNotLoaded(@TempDir Path tmp) throws Exception {
        Path planted = loadableLibrary();
        Path shared = Files.createDirectory(tmp.resolve("shared-tmp"));
        List<Path> plants = new ArrayList<>();
        for (String library : new String[] {"JCudaDriver", "JCublas2"}) {
            Path plant = shared.resolve(fileName(library));
            Files.copy(planted, plant);
            plants.add(plant);
        }
        byte[] plantedBytes = Files.readAllBytes(planted);

        // JCuda on its own loads the planted files: the threat is real, and /proc/self/maps shows it.
        Child jcuda = child("jcuda", shared, null);
        assertEquals(0, jcuda.code(), String.join("\n", jcuda.lines()));
        for (Path plant : plants) {
            assertTrue(jcuda.mapped().contains(plant.toString()), "JCuda alone should load " + plant + ": "
                    + jcuda.lines());
        }

        // rnn4j's probe (driver and cuBLAS) loads nothing from there.
        Path mine = tmp.resolve("private");
        Child rnn4j = child("probe", shared, mine);
        assertEquals(0, rnn4j.code(), String.join("\n", rnn4j.lines()));
        for (String m : rnn4j.mapped()) {
            assertTrue(m.startsWith(mine.toString() + "/"), "loaded from outside the private directory: " + m);
        }
        for (String l : rnn4j.lines()) {
            assertFalse(l.contains(shared.toString()), "the planted directory shows up: " + l);
        }
        for (Path plant : plants) {
            assertArrayEquals(plantedBytes, Files.readAllBytes(plant), "the planted file was touched: " + plant);
        }
        // What was extracted instead: the jar's own library, in a directory created 0700.
        assertArrayEquals(resource("JCudaDriver"), Files.readAllBytes(mine.resolve(fileName("JCudaDriver"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mine)));
    }

    static byte[] resource(String library) throws IOException {
        try (InputStream in = LibUtils.class.getResourceAsStream("/lib/" + fileName(library))) {
            assertNotNull(in, "the jar lacks " + fileName(library));
            return in.readAllBytes();
        }
    }

    private static Path privateDir(Path tmp) throws IOException {
        Path dir = tmp.resolve("native");
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir;
    }

    @Test
    void aTamperedOrStaleLibraryInThePrivateDirectoryIsReplaced(@TempDir Path tmp) throws IOException {
        Path dir = privateDir(tmp);
        byte[] real = resource("JCudaDriver");
        Path file = dir.resolve(fileName("JCudaDriver"));

        // Another content altogether (a stale copy from another build, say).
        Files.write(file, "not JCuda".getBytes(StandardCharsets.US_ASCII));
        assertEquals(file, NativeLibraries.extract(dir, NativeLibraries.DRIVER));
        assertArrayEquals(real, Files.readAllBytes(file));

        // The same size with one byte changed: caught by the hash, not the size.
        byte[] tampered = real.clone();
        tampered[tampered.length / 2] ^= 1;
        Files.write(file, tampered);
        NativeLibraries.extract(dir, NativeLibraries.DRIVER);
        assertArrayEquals(real, Files.readAllBytes(file));

        // Right bytes but writable by others: rewritten with private permissions.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
        NativeLibraries.extract(dir, NativeLibraries.DRIVER);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        // A symbolic link in its place is replaced by a file; its target is left alone.
        Path elsewhere = Files.write(tmp.resolve("elsewhere.so"), "elsewhere".getBytes(StandardCharsets.US_ASCII));
        Files.delete(file);
        Files.createSymbolicLink(file, elsewhere);
        NativeLibraries.extract(dir, NativeLibraries.DRIVER);
        assertFalse(Files.isSymbolicLink(file));
        assertArrayEquals(real, Files.readAllBytes(file));
        assertEquals("elsewhere", Files.readString(elsewhere));

        // A correct file is left as it is (not rewritten on every start).
        FileTime before = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(file, before);
        NativeLibraries.extract(dir, NativeLibraries.DRIVER);
        assertEquals(before, Files.getLastModifiedTime(file));

        // No temporary files are left behind.
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList());
        }
    }

    @Test
    void aDirectoryOthersCanWriteIsRefusedInOneLine(@TempDir Path tmp) throws IOException {
        Path dir = privateDir(tmp);
        assertEquals(dir.toRealPath(), NativeLibraries.prepareDirectory(dir));
        for (String mode : new String[] {"rwxrwxrwx", "rwxrwx---", "rwx-w--w-"}) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            String why = refused(dir);
            assertTrue(why.contains(dir + " is not private: writable by"), why);
            assertTrue(why.contains("RNN4J_NATIVE_DIR"), why);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        NativeLibraries.prepareDirectory(dir); // readable by others is fine: only writing matters

        // A directory above it that others can write (and could rename ours away in): refused, unless sticky.
        Path parent = tmp.resolve("open");
        Path inside = parent.resolve("native");
        Files.createDirectories(inside);
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxrwxrwx"));
        String why = refused(inside);
        assertTrue(why.contains(parent + " above it is writable by others"), why);
        Files.setAttribute(parent, "unix:mode", 01777); // as /tmp
        NativeLibraries.prepareDirectory(inside);
    }

    @Test
    void aDirectoryOfAnotherUserIsRefusedInOneLine(@TempDir Path tmp) throws IOException {
        assumeTrue(NativeLibraries.currentUid() == 0, "only root can give a directory to another user");
        Path dir = privateDir(tmp);
        Files.setAttribute(dir, "unix:uid", 65534);
        String why = refused(dir);
        assertTrue(why.contains(dir + " is not private: it belongs to uid 65534, not to this user (uid 0)"), why);

        // And a directory above that is another user's.
        Path theirs = tmp.resolve("theirs");
        Path mine = theirs.resolve("native");
        Files.createDirectories(mine);
        Files.setAttribute(theirs, "unix:uid", 65534);
        why = refused(mine);
        assertTrue(why.contains(theirs + " above it belongs to uid 65534"), why);
    }

    /** The probe's one-line reason for a refused directory, checked against the directory alone. */
    private static String refused(Path dir) {
        NativeLibraries.Problem p = assertThrows(NativeLibraries.Problem.class,
                () -> NativeLibraries.prepareDirectory(dir));
        CudaProbe.Result r = CudaProbe.probe(dir, null, null);
        assertFalse(r.usable());
        assertEquals(p.getMessage(), r.reason(), "the probe's reason is the directory's problem");
        assertEquals(dir, r.nativeDir());
        assertFalse(r.reason().contains("\n"), r.reason());
        return r.reason();
    }

    @Test
    void missingLevelsAreCreatedPrivate(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("cache/rnn4j/native");
        assertEquals(dir, NativeLibraries.prepareDirectory(dir));
        for (Path p = dir; !p.equals(tmp); p = p.getParent()) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        }
        NativeLibraries.prepareDirectory(dir); // again: already there, still fine

        Path notADir = Files.writeString(tmp.resolve("file"), "x");
        String why = assertThrows(NativeLibraries.Problem.class, () -> NativeLibraries.prepareDirectory(notADir))
                .getMessage();
        assertTrue(why.contains(notADir + " is not a directory"), why);
    }

    @Test
    void theDirectoryFollowsTheEnvironment() {
        String home = "/home/u";
        assertEquals(Path.of("/home/u/.cache/rnn4j/native"), NativeLibraries.directory(Map.of(), home));
        assertEquals(Path.of("/h/.cache/rnn4j/native"), NativeLibraries.directory(Map.of("HOME", "/h"), home));
        assertEquals(Path.of("/x/rnn4j/native"), NativeLibraries.directory(Map.of("XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/home/u/.cache/rnn4j/native"),
                NativeLibraries.directory(Map.of("XDG_CACHE_HOME", "relative"), home), "a relative XDG path is ignored");
        assertEquals(Path.of("/d"), NativeLibraries.directory(Map.of("RNN4J_NATIVE_DIR", "/d",
                "XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("rel").toAbsolutePath(), NativeLibraries.directory(Map.of("RNN4J_NATIVE_DIR", "rel"), home));
        assertEquals(Path.of("/home/u/.cache/rnn4j/native"),
                NativeLibraries.directory(Map.of("RNN4J_NATIVE_DIR", " "), home));
    }

    @Test
    void theLibraryNamesAreJCudasOwn() {
        assertEquals("libJCudaDriver-" + JCudaVersion.get() + "-linux-x86_64.so", fileName("JCudaDriver"));
        assertEquals(fileName("JCublas2"), NativeLibraries.fileName(NativeLibraries.CUBLAS));
        assertEquals(fileName("JCudaDriver"), NativeLibraries.fileName(NativeLibraries.DRIVER));
    }
}
