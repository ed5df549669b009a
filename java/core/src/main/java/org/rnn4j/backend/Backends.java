package org.rnn4j.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.backend.spi.BackendProvider;

/** Finds the backend providers and chooses one for {@code --backend auto|cpu|...}. */
public final class Backends {

    /**
     * What {@code --backend} resolved to, and the line to tell the user when {@code auto} had to fall back.
     *
     * @param provider     the provider to create the backend with
     * @param fallbackNote why {@code auto} chose the CPU, in one line; null when nothing fell back
     */
    public record Choice(BackendProvider provider, String fallbackNote) {
    }

    private Backends() {
    }

    /**
     * Every known provider, the CPU first, then those on the class path in order of decreasing priority.
     *
     * @return a new list; the CPU provider is always its first element
     */
    public static List<BackendProvider> providers() {
        List<BackendProvider> found = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (!p.name().equals("cpu")) {
                found.add(p);
            }
        }
        found.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        found.add(0, new CpuBackendProvider());
        return found;
    }

    /**
     * The accepted values of {@code --backend}: {@code auto} and every provider's name.
     *
     * @return {@code auto}, then the names in the order of {@link #providers()}
     */
    public static List<String> names() {
        List<String> names = new ArrayList<>();
        names.add("auto");
        providers().forEach(p -> names.add(p.name()));
        return names;
    }

    /**
     * Resolves a {@code --backend} value: {@code auto} takes the usable provider of highest priority other than the
     * CPU, or the CPU with a note saying why; a provider's name takes that provider if it can run here.
     *
     * @param name {@code auto}, or a provider's name, case-insensitive; null means {@code auto}
     * @return the provider chosen, with the fallback note of {@code auto}
     * @throws IllegalArgumentException for an unknown name, or a named backend that cannot run here (with why)
     */
    public static Choice choose(String name) {
        String wanted = name == null ? "auto" : name.toLowerCase(Locale.ROOT);
        List<BackendProvider> all = providers();
        if (wanted.equals("auto")) {
            BackendProvider cpu = all.get(0);
            List<String> whyNot = new ArrayList<>();
            for (BackendProvider p : all) {
                if (p == cpu) {
                    continue;
                }
                BackendProvider.Availability a = p.availability();
                if (a.usable()) {
                    return new Choice(p, null);
                }
                whyNot.add(p.name() + ": " + a.reason());
            }
            String note = whyNot.isEmpty()
                    ? "using the CPU backend: this build has no GPU backend"
                    : "using the CPU backend: no usable GPU backend (" + String.join("; ", whyNot) + ")";
            return new Choice(cpu, note);
        }
        for (BackendProvider p : all) {
            if (p.name().equals(wanted)) {
                BackendProvider.Availability a = p.availability();
                if (!a.usable()) {
                    throw new IllegalArgumentException("backend " + p.name() + " cannot run here: " + a.reason());
                }
                return new Choice(p, null);
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected "
                + names().stream().collect(Collectors.joining(", ")) + ")");
    }
}
