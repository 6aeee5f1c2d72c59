#!/usr/bin/env perl
# Rewrites the template's names in every text file of a freshly generated app (run by
# rename.rhai, in the new app's folder), in one pass so that a new name is never rewritten again:
#   multitoken:: and multitoken_...  (Rust paths, cookie and channel names)  -> <crate_name>
#   multitoken                       (package, binary, titles, realm, prose)  -> <project-name>
#   mt_...                           (the token prefix, in code, config, docs) -> <token_prefix>
# Whole words only: "django-rest-multitokenauth" and "format_" stay as they are. Then
# `cargo fmt`, since a longer name can push a Rust line past rustfmt's width (CI checks it).
use strict;
use warnings;
use File::Find;

@ARGV == 3 or die "usage: rename.pl <project-name> <crate_name> <token_prefix>\n";
my ($project, $crate, $prefix) = @ARGV;
my $files = 0;

find({ no_chdir => 1, wanted => sub {
    # This folder holds the very names it replaces; a .git folder is not the app's.
    if (-d && m{^\./(\.cargo-generate|\.git)$}) { $File::Find::prune = 1; return; }
    return unless -f && -T;    # text files only: docs/device-page.png stays untouched
    open(my $in, '<:raw', $_) or die "$_: $!\n";
    my $text = do { local $/; <$in> };
    close $in;
    my $count = $text =~ s{\b(?:(multitoken)(?=::|_)|(multitoken)\b|(mt_))}
                          {defined $1 ? $crate : defined $2 ? $project : $prefix}ge;
    return unless $count;
    $files++;
    open(my $out, '>:raw', $_) or die "$_: $!\n";    # rewrites in place: keeps the file's mode
    print {$out} $text;
    close $out or die "$_: $!\n";
}}, '.');

# What it did, on stdout: rename.rhai passes it on to cargo-generate's output.
my $fmt = system('cargo', 'fmt') == 0 ? 'formatted' : '`cargo fmt` failed, run it yourself';
print "renamed in $files files, $fmt\n";
