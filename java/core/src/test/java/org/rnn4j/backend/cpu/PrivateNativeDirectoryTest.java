package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where JavaCPP extracts OpenBLAS: a directory only this user can change, never a fixed path in /tmp. */
class PrivateNativeDirectoryTest {

    @Test
    void theDirectoryComesFromTheEnvironment() {
        assertEquals(Path.of("/x/javacpp"), PrivateNativeDirectory.javacppCache(Map.of("RNN4J_NATIVE_DIR", "/x"), "/h"));
        assertEquals(Path.of("/c/rnn4j/native/javacpp"),
                PrivateNativeDirectory.javacppCache(Map.of("XDG_CACHE_HOME", "/c", "HOME", "/home/u"), "/h"));
        assertEquals(Path.of("/home/u/.cache/rnn4j/native/javacpp"),
                PrivateNativeDirectory.javacppCache(Map.of("XDG_CACHE_HOME", "relative", "HOME", "/home/u"), "/h"));
        assertEquals(Path.of("/h/.cache/rnn4j/native/javacpp"), PrivateNativeDirectory.javacppCache(Map.of(), "/h"));
    }

    @Test
    void missingLevelsAreCreatedPrivate(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("a/b/javacpp");
        Path made = PrivateNativeDirectory.prepare(dir);
        assertEquals(dir.toRealPath(), made);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("a"))));
        assertNull(PrivateNativeDirectory.privacyProblem(dir));
    }

    @Test
    void aDirectoryOthersCanWriteIsRefused(@TempDir Path tmp) throws Exception {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PrivateNativeDirectory.prepare(open));
        assertTrue(e.getMessage().contains("writable by others"), e.getMessage());
        assertTrue(e.getMessage().contains("RNN4J_NATIVE_DIR"), e.getMessage());

        // and one below a directory others can write (not sticky): they could rename it away and plant another
        Path below = Files.createDirectory(open.resolve("mine"));
        Files.setPosixFilePermissions(below, PosixFilePermissions.fromString("rwx------"));
        String problem = PrivateNativeDirectory.privacyProblem(below);
        assertNotNull(problem);
        assertTrue(problem.contains("above it is writable by others"), problem);
    }
}
