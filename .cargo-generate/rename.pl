#!/usr/bin/env perl
# Rewrites the template's names in every text file of a freshly generated app (run by
# rename.rhai, in the new app's folder), in one pass so that a new name is never rewritten again:
#   multitoken:: and multitoken_...  (Rust paths, cookie and channel names)  -> <crate_name>
#   multitoken                       (package, binary, titles, realm, prose)  -> <project-name>
#   mt_...                           (the token prefix, in code, config, docs) -> <token_prefix>
# Whole words only: "django-rest-multitokenauth" and "format_" stay as they are. Before that, the
# Markdown files lose what only the template needs (making a new app, the template's own checks):
# every region from `<!-- template-only -->` to `<!-- /template-only -->`. After it, Cargo.toml
# gets the template's name and version ([package.metadata.template]), and `cargo fmt` runs, since
# a longer name can push a Rust line past rustfmt's width (CI checks it).
use strict;
use warnings;
use File::Find;

@ARGV == 3 or die "usage: rename.pl <project-name> <crate_name> <token_prefix>\n";
my ($project, $crate, $prefix) = @ARGV;
my $files = 0;

# The template this app is made from: its package name and version, read before the renaming.
open(my $manifest, '<', 'Cargo.toml') or die "Cargo.toml: $!\n";
my $cargo_toml = do { local $/; <$manifest> };
close $manifest;
my ($template) = $cargo_toml =~ /^name = "([^"]+)"$/m or die "Cargo.toml: no package name\n";
my ($version) = $cargo_toml =~ /^version = "([^"]+)"$/m or die "Cargo.toml: no version\n";

find({ no_chdir => 1, wanted => sub {
    # This folder holds the very names it replaces; a .git folder is not the app's; the kit keeps
    # its own names (the app passes it its names at start).
    if (-d && m{^\./(\.cargo-generate|\.git|kit)$}) { $File::Find::prune = 1; return; }
    return unless -f && -T;    # text files only: docs/device-page.png stays untouched
    open(my $in, '<:raw', $_) or die "$_: $!\n";
    my $text = do { local $/; <$in> };
    close $in;
    my $count = 0;
    if (/\.md$/) {
        # A whole-line region goes with the blank lines after it; one inside a paragraph alone.
        $count += $text =~ s{^<!-- template-only\b[^\n]*-->\n.*?^<!-- /template-only -->\n+}{}gms;
        $count += $text =~ s{<!-- template-only -->.*?<!-- /template-only -->}{}gs;
    }
    $count += $text =~ s{\b(?:(multitoken)(?=::|_)|(multitoken)\b|(mt_))}
                          {defined $1 ? $crate : defined $2 ? $project : $prefix}ge;
    return unless $count;
    $files++;
    open(my $out, '>:raw', $_) or die "$_: $!\n";    # rewrites in place: keeps the file's mode
    print {$out} $text;
    close $out or die "$_: $!\n";
}}, '.');

my ($day, $month, $year) = (gmtime)[3, 4, 5];
my $generated = sprintf('%04d-%02d-%02d', $year + 1900, $month + 1, $day);
open(my $append, '>>', 'Cargo.toml') or die "Cargo.toml: $!\n";
print {$append} <<"TOML";

# The template `cargo generate` made this app from, and when (UTC).
[package.metadata.template]
package = "$template"
version = "$version"
generated = "$generated"
TOML
close $append or die "Cargo.toml: $!\n";

# What it did, on stdout: rename.rhai passes it on to cargo-generate's output.
my $fmt = system('cargo', 'fmt') == 0 ? 'formatted' : '`cargo fmt` failed, run it yourself';
print "renamed in $files files, $fmt\n";
