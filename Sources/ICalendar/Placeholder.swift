// Placeholder: the ICalendar module is being written.
