package pipeline

// WriteEvery is Write with a flush interval of the test's choosing.
var WriteEvery = write
